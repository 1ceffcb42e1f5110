//! Entra's admin consent: the URL an administrator visits to grant an app's scopes for a whole organization
//! (Microsoft identity platform v2.0 `adminconsent` endpoint). Other providers have no such endpoint.

use url::Url;

use crate::provider::authority::{Authority, EntraTenant};
use crate::scope::set::ScopeSet;

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
