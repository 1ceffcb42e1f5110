//! The app-wide list of scopes, collected at link time from every `#[requires_scopes]` handler: to list them,
//! to ask for them up front, to build an admin-consent URL, and to warn at start-up about any the app's
//! registration does not declare.

use url::Url;

use crate::provider::authority::{Authority, EntraTenant};
use crate::scope::set::{Scope, ScopeSet};

/// A handler annotated with `#[requires_scopes]`, registered by the macro.
#[derive(Debug)]
pub struct ScopedHandler {
    name: &'static str,
    module: &'static str,
    scopes: &'static [&'static str],
}

impl ScopedHandler {
    /// Used by the macro's expansion.
    #[doc(hidden)]
    pub const fn new(name: &'static str, module: &'static str, scopes: &'static [&'static str]) -> Self {
        Self { name, module, scopes }
    }

    /// The handler's function name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module it is defined in.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The scopes of one of its tokens (a handler with several tokens registers once per token).
    pub fn scopes(&self) -> &'static [&'static str] {
        self.scopes
    }
}

inventory::collect!(ScopedHandler);

/// Every `#[requires_scopes]` handler linked into this program, sorted by module and name.
pub fn scoped_handlers() -> Vec<&'static ScopedHandler> {
    let mut handlers: Vec<_> = inventory::iter::<ScopedHandler>.into_iter().collect();
    handlers.sort_by_key(|handler| (handler.module, handler.name));
    handlers
}

/// The union of the scopes of every `#[requires_scopes]` handler. Invalid scopes cannot occur: the macro
/// refuses them at compile time.
pub fn handler_scopes() -> ScopeSet {
    inventory::iter::<ScopedHandler>
        .into_iter()
        .flat_map(|handler| handler.scopes.iter())
        .filter_map(|scope| Scope::new(scope).ok())
        .collect()
}

/// The Entra v2.0 admin-consent URL granting `scopes` tenant-wide (Microsoft identity platform
/// `adminconsent` endpoint); `None` for other providers, which have no such endpoint.
pub(crate) fn admin_consent_url(
    authority: &Authority,
    client_id: &str,
    redirect_uri: &Url,
    scopes: &ScopeSet,
) -> Option<Url> {
    let Authority::Entra(entra) = authority else { return None };
    // Admin consent needs an organization: `common` and `consumers` become `organizations`.
    let tenant = match entra.tenant() {
        EntraTenant::Tenant(tenant) => tenant.as_str(),
        _ => "organizations",
    };
    let mut url = Url::parse(&format!("https://{}/{tenant}/v2.0/adminconsent", entra.host())).ok()?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("scope", &scopes.without_reserved().to_scope_string())
        .append_pair("redirect_uri", redirect_uri.as_str());
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    inventory::submit! { ScopedHandler::new("send", "registry::tests", &["Mail.Send"]) }
    inventory::submit! { ScopedHandler::new("read", "registry::tests", &["Mail.Read", "mail.send"]) }

    #[test]
    fn collects_every_registered_handler() {
        let names: Vec<_> = scoped_handlers().iter().map(|handler| handler.name()).collect();
        assert_eq!(names, ["read", "send"]);
        assert_eq!(handler_scopes(), ScopeSet::parse("Mail.Read Mail.Send").unwrap());
    }

    #[test]
    fn admin_consent_urls_are_for_entra_organizations() {
        let redirect = Url::parse("https://app.example/auth/callback").unwrap();
        let scopes = ScopeSet::parse("openid Mail.Read Mail.Send").unwrap();
        let common = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        let url = admin_consent_url(&common, "client", &redirect, &scopes).unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/organizations/v2.0/adminconsent?client_id=client&scope=Mail.Read+Mail.Send&redirect_uri=https%3A%2F%2Fapp.example%2Fauth%2Fcallback"
        );
        let tenant = Authority::parse("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").unwrap();
        assert!(
            admin_consent_url(&tenant, "client", &redirect, &scopes)
                .unwrap()
                .as_str()
                .contains("/contoso.onmicrosoft.com/v2.0/adminconsent")
        );
        let generic = Authority::parse("https://idp.example").unwrap();
        assert_eq!(admin_consent_url(&generic, "client", &redirect, &scopes), None);
    }
}
