//! [`Sessions`]: the session of the browser that sent a request, from its sealed session cookie, and the
//! cookies that begin and end one.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::{HeaderMap, HeaderValue};

use crate::provider::account::AccountIdentity;
use crate::session::shared::{SharedSessions, Touched};
use crate::session::store::{Interacted, Remembered, SentCookie, SessionId, SessionRecord, SessionStore, store_key};
use crate::store::error::StoreError;
use crate::web::cookies::{CookieKind, Cookies};

/// What [`Sessions::record_here`] found, or left to the shared store.
enum Here {
    Found(Option<Arc<SessionRecord>>),
    /// Live; its activity is due to be written to the shared store.
    Touch(Arc<SessionRecord>),
    /// The cookie opened to a session this instance does not hold.
    Fetch {
        key: [u8; 32],
        sent: SentCookie,
    },
}

/// The sessions of one app: the store (with, when configured, the shared store behind it), and the cookie
/// that carries a session's id.
#[derive(Debug)]
pub(crate) struct Sessions {
    store: Arc<SessionStore>,
    shared: Option<SharedSessions>,
    cookies: Cookies,
}

impl Sessions {
    /// Sessions in this process only.
    pub(crate) fn new(store: SessionStore, cookies: Cookies) -> Self {
        Self { store: Arc::new(store), shared: None, cookies }
    }

    /// Sessions in a shared store, with `store` as the L1 (see `shared`).
    pub(crate) fn with_shared(
        store: SessionStore,
        cookies: Cookies,
        shared: impl FnOnce(&Arc<SessionStore>) -> SharedSessions,
    ) -> Self {
        let store = Arc::new(store);
        let shared = Some(shared(&store));
        Self { store, shared, cookies }
    }

    /// The live session of the browser that sent `headers`, if it is signed in.
    pub(crate) async fn current(&self, headers: &HeaderMap) -> Option<(SessionId, Arc<SessionRecord>)> {
        let id = self.cookie_id(headers)?;
        let record = match self.store.load(&id) {
            Some(record) => record,
            // Signing out while the shared store is down clears the cookie all the same.
            None => self.shared_record(id.store_key()).await.ok()??,
        };
        Some((id, record))
    }

    /// The record of the live session of the browser that sent `headers`, if it is signed in: the
    /// extractors' path, on every request. A session cookie the store remembers (see `store`) costs a hash;
    /// another is opened, on the stack. Either way nothing is allocated. As for `current`, the first of
    /// several session cookies that opens decides (a sibling subdomain's planted ones do not open). With a
    /// shared store, a session this instance does not hold (or thinks idle) is looked up there; when that
    /// store is down the session may well be live, so the answer is the store's error, not "signed out".
    pub(crate) async fn record(&self, headers: &HeaderMap) -> Result<Option<Arc<SessionRecord>>, Arc<StoreError>> {
        match self.record_here(headers) {
            Here::Found(record) => Ok(record),
            // Boxed: the shared store's paths are the rare ones, and their futures are large; the common
            // path's future stays small (every request moves it).
            Here::Touch(record) => Ok(Box::pin(self.touched(record)).await),
            Here::Fetch { key, sent } => Box::pin(self.fetch_opened(key, sent)).await,
        }
    }

    /// [`record`](Self::record) from this process's memory alone, or what is left to do with the shared
    /// store: a session whose activity is due to be written there, or one this instance does not hold.
    fn record_here(&self, headers: &HeaderMap) -> Here {
        let found = |record: Arc<SessionRecord>| match &self.shared {
            Some(shared) if shared.touch_due(&record) => Here::Touch(record),
            _ => Here::Found(Some(record)),
        };
        for sent_value in self.cookies.session_values(headers) {
            let sent = SentCookie::of(sent_value);
            match self.store.load_remembered(&sent) {
                Remembered::Live(record) => return found(record),
                Remembered::Ended if self.shared.is_none() => return Here::Found(None),
                Remembered::Ended | Remembered::Unknown => {}
            }
            let opened = self.cookies.open_session(sent_value, |id| (store_key(id), self.store.load_opened(id, sent)));
            match opened {
                Some((_, Some(record))) => return found(record),
                Some((_, None)) if self.shared.is_none() => return Here::Found(None),
                Some((key, None)) => return Here::Fetch { key, sent },
                None => {}
            }
        }
        Here::Found(None)
    }

    /// The session under `key` from the shared store, its cookie (sent as `sent`) remembered if it is live.
    async fn fetch_opened(
        &self,
        key: [u8; 32],
        sent: SentCookie,
    ) -> Result<Option<Arc<SessionRecord>>, Arc<StoreError>> {
        let record = self.shared_record(key).await?;
        if record.is_some() {
            self.store.remember(key, sent);
        }
        Ok(record)
    }

    /// The session under `key` from the shared store, kept in the L1; `None` without a shared store.
    async fn shared_record(&self, key: [u8; 32]) -> Result<Option<Arc<SessionRecord>>, Arc<StoreError>> {
        let Some(shared) = self.shared.as_ref() else { return Ok(None) };
        match shared.fetch(&key).await {
            Ok(record) => Ok(record.map(|record| self.store.adopt(Arc::new(record)))),
            Err(error) => {
                // Not "signed out": that would send the user through a sign-in that cannot finish while the
                // store is down (the README, "Choosing a store": when the store is down).
                tracing::warn!(error = %error, "the shared session store is unavailable");
                Err(Arc::new(error))
            }
        }
    }

    /// `record`, its activity written to the shared store when due; `None` when it ended on another instance.
    async fn touched(&self, record: Arc<SessionRecord>) -> Option<Arc<SessionRecord>> {
        let Some(shared) = &self.shared else { return Some(record) };
        if !shared.touch_due(&record) {
            return Some(record);
        }
        match shared.touch(&record).await {
            Ok(Touched::Live) => Some(record),
            Ok(Touched::Replaced(fresher)) => {
                let seen = record.last_seen.load(Ordering::Relaxed);
                fresher.last_seen.fetch_max(seen, Ordering::Relaxed);
                Some(self.store.adopt(Arc::from(fresher)))
            }
            Ok(Touched::Ended) => {
                self.store.forget(&record.key);
                None
            }
            Err(error) => {
                // The L1 keeps serving while the store is down; the activity is written at a later request.
                tracing::warn!(error = %error, "could not record a session's activity in the shared store");
                Some(record)
            }
        }
    }

    /// The session id the browser's cookie holds, live or not.
    pub(crate) fn cookie_id(&self, headers: &HeaderMap) -> Option<SessionId> {
        self.cookies.read(headers, CookieKind::Session).map(SessionId::from_cookie)
    }

    /// A new session, with a fresh id (docs/SECURITY.md §18), written to the shared store if there is one.
    pub(crate) async fn begin(
        &self,
        account: AccountIdentity,
        interaction_for: Option<Interacted>,
    ) -> Result<SessionId, StoreError> {
        let (id, record) = self.store.create(account, interaction_for);
        if let Some(shared) = &self.shared
            && let Err(error) = shared.insert(&record).await
        {
            self.store.forget(&record.key);
            return Err(error);
        }
        Ok(id)
    }

    /// Ends the session, on every instance.
    pub(crate) async fn end(&self, id: &SessionId) {
        let key = id.store_key();
        self.store.forget(&key);
        if let Some(shared) = &self.shared
            && let Err(error) = shared.remove(&key).await
        {
            tracing::error!(error = %error, "a session ended here could not be deleted from the shared store");
        }
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
    async fn same_as_current(sessions: &Sessions, headers: &HeaderMap) -> Option<String> {
        let record =
            sessions.record(headers).await.unwrap().map(|record| record.account.home_account_id.as_str().to_owned());
        let current =
            sessions.current(headers).await.map(|(_, record)| record.account.home_account_id.as_str().to_owned());
        assert_eq!(record, current);
        record
    }

    #[tokio::test]
    async fn a_session_cookie_is_opened_once_then_remembered_until_the_session_ends() {
        let sessions = sessions();
        let id = sessions.begin(identity("alice"), None).await.unwrap();
        let headers = request(&format!("theme=dark; {}", pair(&sessions.cookie(&id))));
        assert_eq!(same_as_current(&sessions, &headers).await.as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        assert_eq!(same_as_current(&sessions, &headers).await.as_deref(), Some("alice"), "now by its hash");
        assert_eq!(sessions.store.remembered_cookies(), 1);
        sessions.end(&id).await;
        assert_eq!(same_as_current(&sessions, &headers).await, None);
    }

    #[tokio::test]
    async fn only_cookies_that_open_are_remembered_one_per_session() {
        let sessions = sessions();
        let id = sessions.begin(identity("alice"), None).await.unwrap();
        let sent = pair(&sessions.cookie(&id));
        assert!(sent.contains("%3D"), "{sent}");
        assert_eq!(same_as_current(&sessions, &request(&sent)).await.as_deref(), Some("alice"));
        // The same sealed value spelled another way opens too, and is remembered instead.
        let respelled = request(&sent.replace("%3D", "%3d"));
        assert_eq!(same_as_current(&sessions, &respelled).await.as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // Tampered with: opens to nothing, and is not remembered.
        let (name, value) = sent.split_once('=').unwrap();
        let flipped = if value.starts_with('A') { "B" } else { "A" };
        let tampered = request(&format!("{name}={flipped}{}", &value[1..]));
        assert_eq!(same_as_current(&sessions, &tampered).await, None);
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // A cookie planted under the same name (a sibling subdomain's) is passed over, before and after.
        let planted = request(&format!("{name}={flipped}{}; {sent}", &value[1..]));
        assert_eq!(same_as_current(&sessions, &planted).await.as_deref(), Some("alice"));
        assert_eq!(same_as_current(&sessions, &planted).await.as_deref(), Some("alice"));
        assert_eq!(sessions.store.remembered_cookies(), 1);
        // Another key's cookie (another app, an old key) opens to nothing.
        let another_app = self::sessions();
        assert_eq!(same_as_current(&another_app, &request(&sent)).await, None);
    }
}
