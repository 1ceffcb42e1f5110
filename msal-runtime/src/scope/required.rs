//! [`RequiredScopes`]: the scopes a handler or an API route needs, as a type, parsed once per type.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::FixedState;
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

/// The parsed scopes of each [`RequiredScopes`] type, computed once: the hot path is a hash lookup in a map
/// of the calling thread's own, so that requests on different cores write no shared cache line (a lock's
/// reader count would be written by every request).
pub(crate) fn scopes_of<R: RequiredScopes>() -> Result<&'static ScopeSet, ScopeError> {
    type Cache = RwLock<HashMap<TypeId, Result<&'static ScopeSet, ScopeError>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    thread_local! {
        // Type ids are no input: a fixed hasher will do.
        static PARSED: RefCell<HashMap<TypeId, &'static ScopeSet, FixedState>> = RefCell::default();
    }
    let type_id = TypeId::of::<R>();
    if let Some(found) = PARSED.with_borrow(|parsed| parsed.get(&type_id).copied()) {
        return Ok(found);
    }
    let cache = CACHE.get_or_init(Cache::default);
    let found = cache.read().get(&type_id).cloned();
    let found = found.unwrap_or_else(|| {
        let parsed = ScopeSet::from_strs(R::SCOPES.iter().copied())
            .map(|scopes| -> &'static ScopeSet { Box::leak(Box::new(scopes.without_reserved())) });
        cache.write().entry(type_id).or_insert(parsed).clone()
    });
    // Invalid scopes (a bug of the app, logged at each request) are not worth a thread's memory.
    if let Ok(scopes) = found {
        PARSED.with_borrow_mut(|parsed| parsed.insert(type_id, scopes));
    }
    found
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
        assert!(scopes_of::<Broken>().is_err(), "the error is kept too");
        // Other threads find the same set, parsed once.
        let elsewhere = std::thread::spawn(|| scopes_of::<MailSend>().unwrap() as *const ScopeSet as usize);
        assert_eq!(elsewhere.join().unwrap(), first as *const ScopeSet as usize);
    }
}
