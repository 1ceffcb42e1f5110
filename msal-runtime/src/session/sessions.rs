//! [`Sessions`]: the session of the browser that sent a request, from its sealed session cookie, and the
//! cookies that begin and end one.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue};

use crate::provider::account::AccountIdentity;
use crate::scope::set::ScopeSet;
use crate::session::store::{Remembered, SentCookie, SessionId, SessionRecord, SessionStore};
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
    /// extractors' path, on every request. A session cookie the store remembers (see `store`) costs a hash;
    /// another is opened, on the stack. Either way nothing is allocated. As for `current`, the first of
    /// several session cookies that opens decides (a sibling subdomain's planted ones do not open).
    pub(crate) fn record(&self, headers: &HeaderMap) -> Option<Arc<SessionRecord>> {
        for sent_value in self.cookies.session_values(headers) {
            let sent = SentCookie::of(sent_value);
            match self.store.load_remembered(&sent) {
                Remembered::Live(record) => return Some(record),
                Remembered::Ended => return None,
                Remembered::Unknown => {}
            }
            if let Some(record) = self.cookies.open_session(sent_value, |id| self.store.load_opened(id, sent)) {
                return record;
            }
        }
        None
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

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use cookie::Key;
    use http::header::COOKIE;

    use super::*;
    use crate::cache::partition::tests::identity;

    fn sessions() -> Sessions {
        let store =
            SessionStore::new(NonZeroUsize::new(10).unwrap(), Duration::from_secs(3600), Duration::from_secs(3600));
        Sessions::new(store, Cookies::new(Key::generate(), true, false))
    }

    /// A request carrying `line` as its `Cookie` header.
    fn request(line: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(line).unwrap());
        headers
    }

    /// The `name=value` pair a browser sends back for a `Set-Cookie` value.
    fn pair(set_cookie: &HeaderValue) -> String {
        set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned()
    }

    /// `record` as `current` finds it: the session of the first session cookie that opens.
    fn same_as_current(sessions: &Sessions, headers: &HeaderMap) -> Option<String> {
        let record = sessions.record(headers).map(|record| record.account.home_account_id.as_str().to_owned());
        let current = sessions.current(headers).map(|(_, record)| record.account.home_account_id.as_str().to_owned());
        assert_eq!(record, current);
        record
    }

    #[test]
    fn a_session_cookie_is_opened_once_then_remembered_until_the_session_ends() {
        let sessions = sessions();
        let id = sessions.begin(identity("alice"), None);
        let headers = request(&format!("theme=dark; {}", pair(&sessions.cookie(&id))));
        assert_eq!(same_as_current(&sessions, &headers).as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        assert_eq!(same_as_current(&sessions, &headers).as_deref(), Some("alice"), "now by its hash");
        assert_eq!(sessions.store.remembered_cookies(), 1);
        sessions.end(&id);
        assert_eq!(same_as_current(&sessions, &headers), None);
    }

    #[test]
    fn only_cookies_that_open_are_remembered_one_per_session() {
        let sessions = sessions();
        let id = sessions.begin(identity("alice"), None);
        let sent = pair(&sessions.cookie(&id));
        assert!(sent.contains("%3D"), "{sent}");
        assert_eq!(same_as_current(&sessions, &request(&sent)).as_deref(), Some("alice"));
        // The same sealed value spelled another way opens too, and is remembered instead.
        let respelled = request(&sent.replace("%3D", "%3d"));
        assert_eq!(same_as_current(&sessions, &respelled).as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // Tampered with: opens to nothing, and is not remembered.
        let (name, value) = sent.split_once('=').unwrap();
        let flipped = if value.starts_with('A') { "B" } else { "A" };
        let tampered = request(&format!("{name}={flipped}{}", &value[1..]));
        assert_eq!(same_as_current(&sessions, &tampered), None);
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // A cookie planted under the same name (a sibling subdomain's) is passed over, before and after.
        let planted = request(&format!("{name}={flipped}{}; {sent}", &value[1..]));
        assert_eq!(same_as_current(&sessions, &planted).as_deref(), Some("alice"));
        assert_eq!(same_as_current(&sessions, &planted).as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // Another key's cookie (another app, an old key) opens to nothing.
        let another_app = self::sessions();
        assert_eq!(same_as_current(&another_app, &request(&sent)), None);
    }
}
