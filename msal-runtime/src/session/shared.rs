//! Sessions in a shared store, so that every instance (and the next process) knows them: the in-memory
//! store (`store`) is the L1 and holds what this instance has seen; the shared store holds every session,
//! sealed, under a keyed hash of the SHA-256 of its id.
//!
//! A session's idle clock is kept in memory on each request and written to the shared store at most every
//! `touch_every` (a quarter of the idle timeout, at most a minute), as the shared entry's deadline; a record
//! this instance thinks idle is looked up again, since another instance may have seen the user since.
//! Ending a session deletes the shared entry and tells the other instances, which forget their copy.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::unix_now;
use crate::provider::account::AccountIdentity;
use crate::scope::set::ScopeSet;
use crate::session::store::{Interacted, SessionRecord, SessionStore};
use crate::store::changes::{Changes, Heard};
use crate::store::error::StoreError;
use crate::store::sealing::StoreKeys;
use crate::store::shared::{Expect, Kind, SharedStore, StoreKey, Written};

/// A session as stored.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    account: AccountIdentity,
    created_at: u64,
    last_seen: u64,
    /// The scopes as a space-separated string.
    interaction_for: Option<String>,
    /// `Interacted::claims`; absent in sessions stored before it was (read as `false`).
    #[serde(default)]
    interaction_claims: bool,
}

/// The shared half of the sessions.
#[derive(Debug)]
pub(crate) struct SharedSessions {
    shared: Arc<dyn SharedStore>,
    keys: Arc<StoreKeys>,
    changes: Changes,
    timeouts: (Duration, Duration),
    touch_every: u64,
}

impl SharedSessions {
    /// Sessions in `shared`, and a listener that keeps `l1` in step with the other instances.
    pub(crate) fn new(shared: Arc<dyn SharedStore>, keys: Arc<StoreKeys>, l1: &Arc<SessionStore>) -> Self {
        let changes = Changes::new(Arc::clone(&shared), Arc::clone(&keys));
        let weak = Arc::downgrade(l1);
        changes.listen(move |heard| {
            let Some(l1) = weak.upgrade() else { return false };
            match heard {
                Heard::Changed { kind: Kind::Session, identifier } => match <[u8; 32]>::try_from(identifier) {
                    Ok(key) => l1.forget(&key),
                    Err(_) => l1.forget_all(),
                },
                Heard::Changed { .. } => {}
                Heard::Lost => l1.forget_all(),
            }
            true
        });
        let timeouts = l1.timeouts();
        let touch_every = (timeouts.0.as_secs() / 4).clamp(1, 60);
        Self { shared, keys, changes, timeouts, touch_every }
    }

    fn key(&self, record_key: &[u8; 32]) -> StoreKey {
        self.keys.name(Kind::Session, record_key)
    }

    fn sealed(&self, key: &StoreKey, record: &SessionRecord, last_seen: u64) -> Vec<u8> {
        let stored = StoredSession {
            account: record.account.clone(),
            created_at: record.created_at,
            last_seen,
            interaction_for: record.interaction_for.as_ref().map(|done| done.scopes.to_scope_string()),
            interaction_claims: record.interaction_for.as_ref().is_some_and(|done| done.claims),
        };
        let json = serde_json::to_vec(&stored).expect("a session serializes");
        self.keys.seal(key, &json)
    }

    /// Writes a new session.
    pub(crate) async fn insert(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let key = self.key(&record.key);
        let seen = record.last_seen.load(Ordering::Relaxed);
        let value = self.sealed(&key, record, seen);
        match self.shared.put(&key, Expect::Absent, &value, record.deadline(self.timeouts)).await? {
            Written::Done { version } => {
                record.shared_version.store(version, Ordering::Relaxed);
                record.shared_seen.store(seen, Ordering::Relaxed);
                Ok(())
            }
            // 256 random bits collided: never; say so rather than share a session.
            Written::Conflict => Err(StoreError::Contention),
        }
    }

    /// The live session under `record_key`; `None` when absent, ended, or unreadable (logged).
    pub(crate) async fn fetch(&self, record_key: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        let key = self.key(record_key);
        let Some(entry) = self.shared.get(&key).await? else { return Ok(None) };
        let stored = match self.keys.open(&key, &entry.value) {
            Ok(json) => serde_json::from_slice::<StoredSession>(&json).ok(),
            Err(error) => {
                tracing::warn!(error = %error, "a stored session did not open; read as absent");
                return Ok(None);
            }
        };
        let Some(stored) = stored else {
            tracing::warn!("a stored session is not a session; read as absent");
            return Ok(None);
        };
        let interaction_for = stored
            .interaction_for
            .as_deref()
            .and_then(|scopes| ScopeSet::parse(scopes).ok())
            .map(|scopes| Interacted { scopes, claims: stored.interaction_claims });
        let record =
            SessionRecord::new(*record_key, stored.account, stored.created_at, stored.last_seen, interaction_for);
        if record.deadline(self.timeouts) <= unix_now() {
            return Ok(None);
        }
        record.shared_version.store(entry.version, Ordering::Relaxed);
        Ok(Some(record))
    }

    /// Whether the session's activity should be written to the shared store now.
    pub(crate) fn touch_due(&self, record: &SessionRecord) -> bool {
        let seen = record.last_seen.load(Ordering::Relaxed);
        seen.saturating_sub(record.shared_seen.load(Ordering::Relaxed)) >= self.touch_every
    }

    /// Writes the session's activity; `Ok(None)` when it has ended on another instance meanwhile, and
    /// `Ok(Some(fresher))` when another instance's write is newer than this instance's copy.
    pub(crate) async fn touch(&self, record: &SessionRecord) -> Result<Touched, StoreError> {
        let key = self.key(&record.key);
        let seen = record.last_seen.load(Ordering::Relaxed);
        let value = self.sealed(&key, record, seen);
        let expect = Expect::Version(record.shared_version.load(Ordering::Relaxed));
        match self.shared.put(&key, expect, &value, record.deadline(self.timeouts)).await? {
            Written::Done { version } => {
                record.shared_version.store(version, Ordering::Relaxed);
                record.shared_seen.store(seen, Ordering::Relaxed);
                Ok(Touched::Live)
            }
            Written::Conflict => match self.fetch(&record.key).await? {
                Some(fresher) => Ok(Touched::Replaced(Box::new(fresher))),
                None => Ok(Touched::Ended),
            },
        }
    }

    /// Deletes the session everywhere.
    pub(crate) async fn remove(&self, record_key: &[u8; 32]) -> Result<(), StoreError> {
        self.shared.delete(&self.key(record_key), Expect::Any).await?;
        self.changes.announce(Kind::Session, record_key).await;
        Ok(())
    }
}

/// The result of [`SharedSessions::touch`].
#[derive(Debug)]
pub(crate) enum Touched {
    Live,
    /// Another instance wrote it since: its copy.
    Replaced(Box<SessionRecord>),
    /// Ended on another instance.
    Ended,
}
