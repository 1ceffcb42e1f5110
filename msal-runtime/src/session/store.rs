//! The session store: server-side records keyed by an opaque id (docs/SECURITY.md §16, §18).
//!
//! The browser holds only a random session id (sealed in the session cookie). Records are kept under the
//! id's SHA-256, so a dump of the store yields no usable cookie. A session ends after an idle timeout and an
//! absolute timeout; it holds who the user is, never a token.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::clock::unix_now;
use crate::provider::account::AccountIdentity;
use crate::random::random_token;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// A session id as held by the browser. `Debug` is redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionId(Secret);

impl SessionId {
    pub(crate) fn from_cookie(value: String) -> Self {
        Self(Secret::new(value))
    }

    pub(crate) fn as_cookie_value(&self) -> &str {
        self.0.expose()
    }

    fn store_key(&self) -> [u8; 32] {
        store_key(self.0.expose())
    }
}

/// Where a session's record is kept: the SHA-256 of its id, so that the store never holds an id a cookie
/// could carry (docs/SECURITY.md §16).
fn store_key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// What the server remembers about a session.
#[derive(Debug)]
pub(crate) struct SessionRecord {
    pub(crate) account: AccountIdentity,
    pub(crate) created_at: u64,
    last_seen: AtomicU64,
    /// The scopes of the consent or re-authentication that created this session, if it was one: a request
    /// that needs them again right away would otherwise send the user round in a loop.
    pub(crate) interaction_for: Option<ScopeSet>,
}

/// The session store (in memory, bounded, least recently active evicted first).
pub(crate) struct SessionStore {
    records: Mutex<LruCache<[u8; 32], Arc<SessionRecord>>>,
    idle_timeout: Duration,
    absolute_timeout: Duration,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStore")
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    pub(crate) fn new(max_sessions: NonZeroUsize, idle_timeout: Duration, absolute_timeout: Duration) -> Self {
        Self { records: Mutex::new(LruCache::new(max_sessions)), idle_timeout, absolute_timeout }
    }

    /// A new session with a fresh id (never one the browser brought: no session fixation).
    pub(crate) fn create(&self, account: AccountIdentity, interaction_for: Option<ScopeSet>) -> SessionId {
        let id = SessionId(Secret::new(random_token()));
        let now = unix_now();
        let record = SessionRecord { account, created_at: now, last_seen: AtomicU64::new(now), interaction_for };
        self.records.lock().push(id.store_key(), Arc::new(record));
        id
    }

    /// The live session, its idle clock reset; an expired one is deleted.
    pub(crate) fn load(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.load_key(id.store_key())
    }

    /// [`load`](Self::load) by the id as the session cookie holds it, borrowed: the extractors' path, on
    /// every request.
    pub(crate) fn load_cookie_value(&self, id: &str) -> Option<Arc<SessionRecord>> {
        self.load_key(store_key(id))
    }

    fn load_key(&self, key: [u8; 32]) -> Option<Arc<SessionRecord>> {
        let now = unix_now();
        let mut records = self.records.lock();
        let record = records.get(&key)?;
        let idle = now.saturating_sub(record.last_seen.load(Ordering::Relaxed)) >= self.idle_timeout.as_secs();
        let too_old = now.saturating_sub(record.created_at) >= self.absolute_timeout.as_secs();
        if idle || too_old {
            records.pop(&key);
            return None;
        }
        record.last_seen.store(now, Ordering::Relaxed);
        Some(Arc::clone(record))
    }

    pub(crate) fn remove(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.records.lock().pop(&id.store_key())
    }

    /// How long the session cookie may live: the absolute timeout.
    pub(crate) fn cookie_lifetime(&self) -> Duration {
        self.absolute_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::partition::tests::identity;

    fn sessions(max: usize, idle: u64, absolute: u64) -> SessionStore {
        SessionStore::new(NonZeroUsize::new(max).unwrap(), Duration::from_secs(idle), Duration::from_secs(absolute))
    }

    #[test]
    fn sessions_are_found_by_their_id_only() {
        let store = sessions(10, 3600, 3600);
        let a = store.create(identity("alice"), None);
        let b = store.create(identity("bob"), None);
        assert_ne!(a, b);
        assert_eq!(store.load(&a).unwrap().account.home_account_id.as_str(), "alice");
        assert_eq!(store.load(&b).unwrap().account.home_account_id.as_str(), "bob");
        assert!(store.load(&SessionId::from_cookie("guess".into())).is_none());
        assert_eq!(store.load_cookie_value(b.as_cookie_value()).unwrap().account.home_account_id.as_str(), "bob");
        assert!(store.load_cookie_value("guess").is_none());
        store.remove(&a);
        assert!(store.load(&a).is_none());
        assert!(store.load(&b).is_some());
    }

    #[test]
    fn timeouts_end_sessions() {
        let store = sessions(10, 0, 3600);
        let a = store.create(identity("alice"), None);
        assert!(store.load(&a).is_none(), "idle timeout of zero");
        let store = sessions(10, 3600, 0);
        let a = store.create(identity("alice"), None);
        assert!(store.load(&a).is_none(), "absolute timeout of zero");
    }

    #[test]
    fn the_store_is_bounded() {
        let store = sessions(2, 3600, 3600);
        let a = store.create(identity("a"), None);
        let b = store.create(identity("b"), None);
        assert!(store.load(&a).is_some());
        let _c = store.create(identity("c"), None);
        assert!(store.load(&b).is_none(), "least recently active goes first");
        assert!(store.load(&a).is_some());
    }
}
