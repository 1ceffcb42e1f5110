//! [`TokenCache`]: every signed-in user's tokens, one partition per user, read and written through a store.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::schema::CachePartition;
pub use crate::cache::schema::{SkipReason, SkippedEntry};
use crate::cache::store::{Saved, StoreError, Stored, TokenStore};
use crate::clock::unix_now;
use crate::provider::account::{HomeAccountId, MsalShape};
use crate::provider::authority::Authority;

/// Why an MSAL cache could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Not MSAL cache JSON at all (not a JSON object). A malformed entry only skips that entry (see
    /// [`ImportReport::skipped`]).
    #[error("not an MSAL token cache: {0}")]
    Json(#[source] serde_json::Error),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// What [`TokenCache::import_msal_json`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The users whose entries were imported, by partition key.
    pub accounts: Vec<HomeAccountId>,
    /// The entries not imported, each with its key and why: app-only tokens, other authorities' entries,
    /// credential types the runtime does not use, malformed entries.
    pub skipped: Vec<SkippedEntry>,
}

/// How many times a read-modify-write is retried when other writers of the same user keep winning.
const MAX_UPDATE_ATTEMPTS: u32 = 32;

/// The pause after the `attempt`th lost compare-and-swap: none at first (in memory the winner is done
/// already), then a random pause of up to 2^attempt ms (at most 256), so that writers of one user on a
/// shared store, where each attempt is a round trip, stop colliding in step.
async fn back_off(attempt: u32) {
    if attempt < 3 {
        tokio::task::yield_now().await;
        return;
    }
    let ceiling = 1u64 << attempt.min(8);
    let jitter = u64::from(u16::from_le_bytes(crate::random::random_bytes::<2>())) % ceiling;
    tokio::time::sleep(std::time::Duration::from_millis(jitter + 1)).await;
}

/// The token cache of one app: every signed-in user's tokens, server-side.
#[derive(Clone)]
pub struct TokenCache {
    /// Cache hits go through it too ([`TokenStore::find_hot`]), so any store can answer them fast.
    store: Arc<dyn TokenStore>,
    /// How long a partition is kept after a write when its refresh token's expiry is unknown (refresh tokens
    /// of Entra live 90 days of inactivity).
    partition_lifetime: Duration,
    /// How the authority's accounts look in MSAL's schema: which partition an imported entry goes to, and
    /// what old-format entries become.
    shape: Arc<MsalShape>,
}

/// How long a detached cache keeps a partition whose refresh token's expiry is unknown (Entra's inactivity).
const DETACHED_PARTITION_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("store", &self.store).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An in-memory cache of `client_id`'s tokens for at most `max_users` users.
    #[cfg(test)]
    pub(crate) fn in_memory(max_users: std::num::NonZeroUsize, partition_lifetime: Duration, client_id: &str) -> Self {
        let authority = Authority::parse("https://login.example").expect("an issuer URL");
        Self::with_store(
            Arc::new(crate::cache::memory::MemoryTokenStore::new(max_users, client_id)),
            partition_lifetime,
            &authority,
        )
    }

    /// An in-memory cache of `client_id`'s tokens from `authority`, for at most `max_users` users, attached to
    /// no runtime: for tools that convert, inspect or migrate MSAL caches (import one, export each user).
    pub fn detached(authority: &Authority, client_id: &str, max_users: std::num::NonZeroUsize) -> Self {
        Self::with_store(
            Arc::new(crate::cache::memory::MemoryTokenStore::new(max_users, client_id)),
            DETACHED_PARTITION_LIFETIME,
            authority,
        )
    }

    /// A cache whose partitions live in `store` (built for the app's client id), of `authority`'s users.
    pub(crate) fn with_store(store: Arc<dyn TokenStore>, partition_lifetime: Duration, authority: &Authority) -> Self {
        Self { store, partition_lifetime, shape: Arc::new(MsalShape::of(authority)) }
    }

    /// The partition key of the account MSAL libraries name `msal_home_account_id` (their `home_account_id`,
    /// `homeAccountId`): the same for Entra ID (`uid.utid`), `sub.<issuer id>` for other issuers, whose MSAL
    /// home account id is `sub` (see [`HomeAccountId`]).
    pub fn account_key(&self, msal_home_account_id: &str) -> HomeAccountId {
        let environment = &self.shape.environment;
        self.shape
            .partition_key(Some(msal_home_account_id), environment)
            .unwrap_or_else(|_| HomeAccountId::new(msal_home_account_id))
    }

    /// The store itself, for the contract suite's compare-and-swap tests, which the cache's own methods
    /// cannot reach (they always load before saving).
    #[cfg(test)]
    pub(crate) fn store(&self) -> &dyn TokenStore {
        &*self.store
    }

    /// The cache-hit path: what the store can tell about `request` (scope ids without reserved scopes) without
    /// a load; `None` when the user has no partition, `Some(HotLookup::Unknown)` when only a load can tell (see
    /// [`TokenStore::find_hot`]).
    pub(crate) fn find_hot(
        &self,
        key: &HomeAccountId,
        request: Option<&ScopeIds>,
        now: u64,
        min_remaining: u64,
    ) -> Option<HotLookup> {
        self.store.find_hot(key, request, now, min_remaining)
    }

    /// The user's partition as stored now.
    pub(crate) async fn load(&self, key: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
        self.store.load(key).await
    }

    /// Applies `change` to the user's partition (an empty one when absent) and stores the result atomically,
    /// re-applying it to a fresh copy when another request wrote in between.
    pub(crate) async fn update<R>(
        &self,
        key: &HomeAccountId,
        change: impl FnMut(&mut CachePartition) -> R,
    ) -> Result<R, StoreError> {
        let updated = self.update_inner(key, true, change).await?;
        Ok(updated.expect("an absent partition is created"))
    }

    /// Like [`update`](Self::update), but only while the partition exists: tokens refreshed for a user who
    /// signed out meanwhile are dropped rather than written back. `None` when the partition is absent.
    pub(crate) async fn update_existing<R>(
        &self,
        key: &HomeAccountId,
        change: impl FnMut(&mut CachePartition) -> R,
    ) -> Result<Option<R>, StoreError> {
        self.update_inner(key, false, change).await
    }

    async fn update_inner<R>(
        &self,
        key: &HomeAccountId,
        create: bool,
        mut change: impl FnMut(&mut CachePartition) -> R,
    ) -> Result<Option<R>, StoreError> {
        for attempt in 0..MAX_UPDATE_ATTEMPTS {
            let (expected, mut partition) = match self.store.load(key).await? {
                Some(stored) => (Some(stored.version), Arc::unwrap_or_clone(stored.partition)),
                None if create => (None, CachePartition::default()),
                None => return Ok(None),
            };
            // Old-format entries are rewritten before the change sees them (a token replacing an old one must find
            // it under its new key) and after (a session begun before writes the old format).
            partition.migrate(&self.shape);
            let result = change(&mut partition);
            partition.migrate(&self.shape);
            let expires_at = partition.keep_until(unix_now(), self.partition_lifetime.as_secs());
            match self.store.save(key, expected, Arc::new(partition), expires_at).await? {
                Saved::Stored { .. } => return Ok(Some(result)),
                Saved::Conflict => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }

    /// Deletes every token of the user.
    pub async fn remove_account(&self, key: &HomeAccountId) -> Result<(), StoreError> {
        self.store.remove(key).await
    }

    /// Whether the cache holds tokens for the user.
    pub async fn contains_account(&self, key: &HomeAccountId) -> Result<bool, StoreError> {
        Ok(self.store.load(key).await?.is_some())
    }

    /// How many users have tokens in the cache.
    pub async fn account_count(&self) -> Result<usize, StoreError> {
        self.store.count().await
    }

    /// Imports a token cache serialized by an MSAL library (for example MSAL Python's
    /// `SerializableTokenCache.serialize()` or msal-node's `TokenCache.serialize()`): each user's entries go to
    /// their partition, replacing entries with the same keys; an imported refresh token replaces the user's
    /// (one per client) and an imported access token the user's older ones for overlapping scopes. Entries the runtime does not use (app-only
    /// tokens, other authorities' entries, other credential types, malformed entries) are skipped and listed
    /// in the report; they never stop the rest. Entries written by earlier versions of this runtime are
    /// rewritten as MSAL writes them. The JSON holds tokens: handle it as a secret.
    pub async fn import_msal_json(&self, json: &str) -> Result<ImportReport, ImportError> {
        let (whole, mut skipped) = CachePartition::from_msal_json_tolerant(json).map_err(ImportError::Json)?;
        let partitions = whole.split_by_account(&self.shape, &mut skipped);
        let mut accounts = Vec::with_capacity(partitions.len());
        for (home_account_id, imported) in partitions {
            self.update(&home_account_id, |partition| partition.merge_imported(&imported))
                .await
                .map_err(ImportError::Store)?;
            accounts.push(home_account_id);
        }
        Ok(ImportReport { accounts, skipped })
    }

    /// The user's partition as MSAL JSON, readable by MSAL libraries (for example MSAL Python's
    /// `SerializableTokenCache.deserialize`, msal-node's `TokenCache.deserialize`), entries of earlier
    /// versions of this runtime as MSAL writes them. It contains the user's tokens: handle it as a secret.
    pub async fn export_msal_json(&self, key: &HomeAccountId) -> Result<Option<String>, StoreError> {
        let Some(stored) = self.store.load(key).await? else { return Ok(None) };
        let mut partition = Arc::unwrap_or_clone(stored.partition);
        partition.migrate(&self.shape);
        Ok(Some(partition.to_msal_json()))
    }
}
