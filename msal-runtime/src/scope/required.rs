//! [`RequiredScopes`]: the scopes a handler or an API route needs, as a type, parsed once per type.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::RwLock;

use crate::scope::set::{ScopeError, ScopeSet};

/// The scopes a handler needs, as a type: what `#[requires_scopes]` generates, and what a handler written by
/// hand declares.
///
/// ```
/// use msal_runtime::{AccessTokenFor, RequiredScopes};
///
/// struct MailSend;
/// impl RequiredScopes for MailSend {
///     const SCOPES: &'static [&'static str] = &["Mail.Send"];
/// }
///
/// async fn send(token: AccessTokenFor<MailSend>) -> &'static str {
///     let _bearer = token.authorization_header(); // call the API with it
///     "sent"
/// }
/// # let _ = axum::routing::post::<_, _, msal_runtime::Msal>(send);
/// ```
pub trait RequiredScopes: Send + Sync + 'static {
    /// The scopes, as registered with the provider (`openid`, `profile` and `offline_access` are implied).
    const SCOPES: &'static [&'static str];
}

/// The parsed scopes of each [`RequiredScopes`] type, computed once: the hot path is a hash lookup.
pub(crate) fn scopes_of<R: RequiredScopes>() -> Result<&'static ScopeSet, ScopeError> {
    type Cache = RwLock<HashMap<TypeId, Result<&'static ScopeSet, ScopeError>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if let Some(found) = cache.read().get(&TypeId::of::<R>()) {
        return found.clone();
    }
    let parsed = ScopeSet::from_strs(R::SCOPES.iter().copied())
        .map(|scopes| -> &'static ScopeSet { Box::leak(Box::new(scopes.without_reserved())) });
    cache.write().entry(TypeId::of::<R>()).or_insert(parsed).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MailSend;
    impl RequiredScopes for MailSend {
        const SCOPES: &'static [&'static str] = &["Mail.Send", "openid"];
    }

    struct Broken;
    impl RequiredScopes for Broken {
        const SCOPES: &'static [&'static str] = &["Mail Send"];
    }

    #[test]
    fn scope_sets_are_parsed_once_per_type_without_reserved_scopes() {
        let first = scopes_of::<MailSend>().unwrap();
        assert_eq!(*first, ScopeSet::parse("Mail.Send").unwrap());
        assert!(std::ptr::eq(first, scopes_of::<MailSend>().unwrap()));
        assert!(scopes_of::<Broken>().is_err());
    }
}
