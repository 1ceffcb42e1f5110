//! The session store: server-side records keyed by an opaque id (docs/SECURITY.md §16, §18).
//!
//! The browser holds only a random session id (sealed in the session cookie). Records are kept under the
//! id's SHA-256, so a dump of the store yields no usable cookie. A session ends after an idle timeout and an
//! absolute timeout; it holds who the user is, never a token.
//!
//! Opening the session cookie (AES-GCM, base64, percent-decoding) was most of what a signed-in request cost,
//! and a browser sends the same sealed value with every request. So the store also remembers, for each
//! session cookie that has opened, the SHA-256 of its value as sent and the record it led to: the next
//! request with the same bytes costs one hash and no decryption. This keeps every property of opening it:
//! only a value that authenticated (under the cookie's name and key) is remembered, and only bytes with the
//! same SHA-256 find it again, which (second-preimage resistance) are the same bytes, which open to the same
//! id; a forged or tampered value finds nothing and is opened, and refused, as before. The store still holds
//! no usable cookie, only hashes of cookies; an ended or expired session ends for its remembered cookies too.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lru::LruCache;
use parking_lot::RwLock;
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

    pub(crate) fn store_key(&self) -> [u8; 32] {
        store_key(self.0.expose())
    }
}

/// Where a session's record is kept: the SHA-256 of its id, so that the store never holds an id a cookie
/// could carry (docs/SECURITY.md §16).
pub(crate) fn store_key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// A session cookie's value as a browser sent it (sealed, percent-encoded), by its SHA-256: how the store
/// remembers which session it opened to, without holding the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SentCookie([u8; 32]);

impl SentCookie {
    pub(crate) fn of(sent_value: &str) -> Self {
        Self(Sha256::digest(sent_value.as_bytes()).into())
    }
}

/// What the store knows of a session cookie by its value as sent.
#[derive(Debug)]
pub(crate) enum Remembered {
    /// It opened to this live session.
    Live(Arc<SessionRecord>),
    /// It opened to a session that has expired just now (it is forgotten with its session otherwise).
    Ended,
    /// Not remembered: it must be opened.
    Unknown,
}

/// What the server remembers about a session.
#[derive(Debug)]
pub(crate) struct SessionRecord {
    /// Where it is kept: the SHA-256 of its id.
    pub(crate) key: [u8; 32],
    pub(crate) account: AccountIdentity,
    pub(crate) created_at: u64,
    pub(crate) last_seen: AtomicU64,
    /// The consent or re-authentication that created this session, if it was one: a request that needs
    /// the same again right away would otherwise send the user round in a loop.
    pub(crate) interaction_for: Option<Interacted>,
    /// With a shared store (see `shared`): the version of the shared copy this record matches, and the
    /// `last_seen` written there.
    pub(crate) shared_version: AtomicU64,
    pub(crate) shared_seen: AtomicU64,
}

/// A consent or re-authentication a session was created by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interacted {
    /// The scopes it asked for.
    pub(crate) scopes: ScopeSet,
    /// It passed a claims challenge on to the provider. A claims challenge right after a mere consent is
    /// no loop: the API may revoke a session at any time, a minute after a consent too.
    pub(crate) claims: bool,
}

impl SessionRecord {
    pub(crate) fn new(
        key: [u8; 32],
        account: AccountIdentity,
        created_at: u64,
        last_seen: u64,
        interaction_for: Option<Interacted>,
    ) -> Self {
        Self {
            key,
            account,
            created_at,
            last_seen: AtomicU64::new(last_seen),
            interaction_for,
            shared_version: AtomicU64::new(0),
            shared_seen: AtomicU64::new(last_seen),
        }
    }

    /// When the session ends if nobody uses it: at its idle or its absolute timeout, whichever is first.
    pub(crate) fn deadline(&self, (idle_timeout, absolute_timeout): (Duration, Duration)) -> u64 {
        let idle = self.last_seen.load(Ordering::Relaxed).saturating_add(idle_timeout.as_secs());
        idle.min(self.created_at.saturating_add(absolute_timeout.as_secs()))
    }

    /// Whether the session has been idle or has lived too long at `now` (idle and absolute timeouts).
    fn has_ended(&self, now: u64, (idle_timeout, absolute_timeout): (Duration, Duration)) -> bool {
        let idle = now.saturating_sub(self.last_seen.load(Ordering::Relaxed)) >= idle_timeout.as_secs();
        idle || now.saturating_sub(self.created_at) >= absolute_timeout.as_secs()
    }
}

/// A session's record, and the session cookie (as sent) last found to open to it.
struct Entry {
    record: Arc<SessionRecord>,
    opened_as: Option<SentCookie>,
}

/// The records, and the session cookies known to open to them, under one lock.
struct Records {
    /// By the SHA-256 of the session id.
    by_id: LruCache<[u8; 32], Entry>,
    /// By the SHA-256 of a session cookie as sent, the key of the record it opened to: one per record at
    /// most (its `opened_as`), so that a client spelling its cookie in many ways (percent-encoding more of
    /// it) replaces its own rather than adding any, and forgotten with its record.
    opened: HashMap<SentCookie, [u8; 32], foldhash::fast::RandomState>,
}

impl Records {
    /// The live record under `key`, its idle clock reset; an expired one is deleted.
    fn live(&mut self, key: [u8; 32], timeouts: (Duration, Duration)) -> Option<Arc<SessionRecord>> {
        let now = unix_now();
        let record = &self.by_id.get(&key)?.record;
        if record.has_ended(now, timeouts) {
            self.remove(&key);
            return None;
        }
        // Written once a second at most: every request of the session reads this line, from every core.
        if record.last_seen.load(Ordering::Relaxed) != now {
            record.last_seen.store(now, Ordering::Relaxed);
        }
        Some(Arc::clone(record))
    }

    fn remove(&mut self, key: &[u8; 32]) -> Option<Arc<SessionRecord>> {
        let entry = self.by_id.pop(key)?;
        self.forget(&entry);
        Some(entry.record)
    }

    fn forget(&mut self, entry: &Entry) {
        if let Some(sent) = &entry.opened_as {
            self.opened.remove(sent);
        }
    }
}

/// The session store (in memory, bounded, least recently active evicted first).
pub(crate) struct SessionStore {
    records: RwLock<Records>,
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
        let records = Records { by_id: LruCache::new(max_sessions), opened: HashMap::default() };
        Self { records: RwLock::new(records), idle_timeout, absolute_timeout }
    }

    pub(crate) fn timeouts(&self) -> (Duration, Duration) {
        (self.idle_timeout, self.absolute_timeout)
    }

    /// A new session with a fresh id (never one the browser brought: no session fixation).
    pub(crate) fn create(
        &self,
        account: AccountIdentity,
        interaction_for: Option<Interacted>,
    ) -> (SessionId, Arc<SessionRecord>) {
        let id = SessionId(Secret::new(random_token()));
        let now = unix_now();
        let record = Arc::new(SessionRecord::new(id.store_key(), account, now, now, interaction_for));
        (id, self.adopt(Arc::clone(&record)))
    }

    /// Keeps `record` (one read from a shared store), replacing what is kept under its key.
    pub(crate) fn adopt(&self, record: Arc<SessionRecord>) -> Arc<SessionRecord> {
        let entry = Entry { record: Arc::clone(&record), opened_as: None };
        let mut records = self.records.write();
        if let Some((_, evicted)) = records.by_id.push(record.key, entry) {
            records.forget(&evicted);
        }
        record
    }

    /// Remembers that the session cookie sent as `sent` opened to the session under `key`.
    pub(crate) fn remember(&self, key: [u8; 32], sent: SentCookie) {
        let mut records = self.records.write();
        let Some(entry) = records.by_id.peek_mut(&key) else { return };
        if let Some(previous) = entry.opened_as.replace(sent) {
            records.opened.remove(&previous);
        }
        records.opened.insert(sent, key);
    }

    /// Forgets the session under `key` (ended on another instance).
    pub(crate) fn forget(&self, key: &[u8; 32]) {
        self.records.write().remove(key);
    }

    /// Forgets every session (another instance's changes may have been missed; the shared store has them).
    pub(crate) fn forget_all(&self) {
        let mut records = self.records.write();
        records.by_id.clear();
        records.opened.clear();
    }

    /// The live session, its idle clock reset; an expired one is deleted.
    pub(crate) fn load(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.records.write().live(id.store_key(), self.timeouts())
    }

    /// What is known of the session cookie sent as `sent`, without opening it.
    pub(crate) fn load_remembered(&self, sent: &SentCookie) -> Remembered {
        // Most requests of a session come within the second of the one before: under the read lock, with
        // nothing written, so that requests on other cores are neither held up nor made to re-read what
        // this one wrote. Once a second the session's recency is recorded under the write lock.
        {
            let records = self.records.read();
            let Some(key) = records.opened.get(sent) else { return Remembered::Unknown };
            let now = unix_now();
            if let Some(entry) = records.by_id.peek(key)
                && entry.record.last_seen.load(Ordering::Relaxed) == now
                && !entry.record.has_ended(now, self.timeouts())
            {
                return Remembered::Live(Arc::clone(&entry.record));
            }
        }
        let mut records = self.records.write();
        let Some(&key) = records.opened.get(sent) else { return Remembered::Unknown };
        match records.live(key, self.timeouts()) {
            Some(record) => Remembered::Live(record),
            None => Remembered::Ended,
        }
    }

    /// [`load`](Self::load) by the id a session cookie just opened to (borrowed), remembering that the cookie
    /// as sent leads there if the session is live.
    pub(crate) fn load_opened(&self, id: &str, sent: SentCookie) -> Option<Arc<SessionRecord>> {
        let key = store_key(id);
        let record = self.records.write().live(key, self.timeouts())?;
        self.remember(key, sent);
        Some(record)
    }

    #[cfg(test)]
    pub(crate) fn remove(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.records.write().remove(&id.store_key())
    }

    /// How long the session cookie may live: the absolute timeout.
    pub(crate) fn cookie_lifetime(&self) -> Duration {
        self.absolute_timeout
    }

    /// How many session cookies are remembered.
    #[cfg(test)]
    pub(crate) fn remembered_cookies(&self) -> usize {
        self.records.write().opened.len()
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
        let (a, _) = store.create(identity("alice"), None);
        let (b, _) = store.create(identity("bob"), None);
        assert_ne!(a, b);
        assert_eq!(store.load(&a).unwrap().account.home_account_id.as_str(), "alice");
        assert_eq!(store.load(&b).unwrap().account.home_account_id.as_str(), "bob");
        assert!(store.load(&SessionId::from_cookie("guess".into())).is_none());
        assert_eq!(
            store.load_opened(b.as_cookie_value(), SentCookie::of("b")).unwrap().account.home_account_id.as_str(),
            "bob"
        );
        assert!(store.load_opened("guess", SentCookie::of("guess")).is_none());
        assert_eq!(store.remembered_cookies(), 1, "only cookies of live sessions are remembered");
        store.remove(&a);
        assert!(store.load(&a).is_none());
        assert!(store.load(&b).is_some());
    }

    #[test]
    fn timeouts_end_sessions() {
        let store = sessions(10, 0, 3600);
        let (a, _) = store.create(identity("alice"), None);
        assert!(store.load(&a).is_none(), "idle timeout of zero");
        let store = sessions(10, 3600, 0);
        let (a, _) = store.create(identity("alice"), None);
        assert!(store.load(&a).is_none(), "absolute timeout of zero");
    }

    #[test]
    fn the_store_is_bounded() {
        let store = sessions(2, 3600, 3600);
        let (a, _) = store.create(identity("a"), None);
        let (b, _) = store.create(identity("b"), None);
        assert!(store.load(&a).is_some());
        let _c = store.create(identity("c"), None);
        assert!(store.load(&b).is_none(), "least recently active goes first");
        assert!(store.load(&a).is_some());
    }

    #[test]
    fn a_remembered_cookie_leads_to_its_session_until_it_ends() {
        let store = sessions(10, 3600, 3600);
        let (a, _) = store.create(identity("alice"), None);
        let sent = SentCookie::of("alice's sealed cookie");
        assert!(matches!(store.load_remembered(&sent), Remembered::Unknown));
        assert!(store.load_opened(a.as_cookie_value(), sent).is_some());
        let Remembered::Live(record) = store.load_remembered(&sent) else { panic!("remembered") };
        assert_eq!(record.account.home_account_id.as_str(), "alice");
        assert!(matches!(store.load_remembered(&SentCookie::of("alice's sealed cookiE")), Remembered::Unknown));
        store.remove(&a);
        assert!(matches!(store.load_remembered(&sent), Remembered::Unknown), "forgotten with its session");
        assert_eq!(store.remembered_cookies(), 0);
    }

    #[test]
    fn remembered_cookies_go_with_their_session_one_per_session() {
        let store = sessions(2, 0, 3600);
        let (a, _) = store.create(identity("alice"), None);
        assert!(store.load_opened(a.as_cookie_value(), SentCookie::of("a")).is_none(), "idle timeout of zero");
        assert_eq!(store.remembered_cookies(), 0);
        let store = sessions(2, 3600, 3600);
        let (a, _) = store.create(identity("alice"), None);
        for spelling in ["a1", "a2", "a3"] {
            assert!(store.load_opened(a.as_cookie_value(), SentCookie::of(spelling)).is_some());
        }
        assert_eq!(store.remembered_cookies(), 1, "another spelling replaces the one remembered");
        assert!(matches!(store.load_remembered(&SentCookie::of("a3")), Remembered::Live(_)));
        assert!(matches!(store.load_remembered(&SentCookie::of("a1")), Remembered::Unknown));
        // Pushed out of the store by newer sessions, a session takes its remembered cookie with it.
        let (b, _) = store.create(identity("bob"), None);
        store.load_opened(b.as_cookie_value(), SentCookie::of("b"));
        let _c = store.create(identity("carol"), None);
        assert!(store.load(&a).is_none());
        assert_eq!(store.remembered_cookies(), 1);
        assert!(matches!(store.load_remembered(&SentCookie::of("a3")), Remembered::Unknown));
        store.remove(&b);
        assert_eq!(store.remembered_cookies(), 0);
    }
}
