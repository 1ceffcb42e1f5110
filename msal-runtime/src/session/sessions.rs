//! [`Sessions`]: the session of the browser that sent a request, from its sealed session cookie, and the
//! cookies that begin and end one.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue};

use crate::provider::account::AccountIdentity;
use crate::scope::set::ScopeSet;
use crate::session::store::{SessionId, SessionRecord, SessionStore};
use crate::web::cookies::{CookieKind, Cookies};

/// The sessions of one app: the store, and the cookie that carries a session's id.
#[derive(Debug)]
pub(crate) struct Sessions {
    store: SessionStore,
    cookies: Cookies,
}

impl Sessions {
    pub(crate) fn new(store: SessionStore, cookies: Cookies) -> Self {
        Self { store, cookies }
    }

    /// The live session of the browser that sent `headers`, if it is signed in.
    pub(crate) fn current(&self, headers: &HeaderMap) -> Option<(SessionId, Arc<SessionRecord>)> {
        let id = self.cookie_id(headers)?;
        let record = self.store.load(&id)?;
        Some((id, record))
    }

    /// The record of the live session of the browser that sent `headers`, if it is signed in: the
    /// extractors' path, on every request, which allocates nothing.
    pub(crate) fn record(&self, headers: &HeaderMap) -> Option<Arc<SessionRecord>> {
        self.cookies.read_with(headers, CookieKind::Session, |id| self.store.load_cookie_value(id)).flatten()
    }

    /// The session id the browser's cookie holds, live or not.
    pub(crate) fn cookie_id(&self, headers: &HeaderMap) -> Option<SessionId> {
        self.cookies.read(headers, CookieKind::Session).map(SessionId::from_cookie)
    }

    /// A new session, with a fresh id (docs/SECURITY.md §18).
    pub(crate) fn begin(&self, account: AccountIdentity, interaction_for: Option<ScopeSet>) -> SessionId {
        self.store.create(account, interaction_for)
    }

    pub(crate) fn end(&self, id: &SessionId) {
        self.store.remove(id);
    }

    /// The `Set-Cookie` value that gives the browser its session, for as long as the session may live.
    pub(crate) fn cookie(&self, id: &SessionId) -> HeaderValue {
        self.cookies.set(CookieKind::Session, id.as_cookie_value(), self.store.cookie_lifetime())
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        self.cookies.clear(CookieKind::Session)
    }
}
