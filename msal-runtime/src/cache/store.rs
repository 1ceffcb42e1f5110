//! The seam between the token cache and where partitions live.
//!
//! Writes are compare-and-swap on a version, so a read-modify-write of one user's partition by two requests
//! at once never loses an update, whatever the store (a mutex in memory, a transaction in a database,
//! `WATCH`/`MULTI` in Redis).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::schema::CachePartition;
use crate::provider::account::HomeAccountId;
pub use crate::store::error::StoreError;

/// A partition as loaded, with the version a later save must name.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) version: u64,
    pub(crate) partition: Arc<CachePartition>,
}

/// The outcome of a compare-and-swap save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saved {
    /// Written; this is the new version.
    Stored { version: u64 },
    /// Someone else wrote first; load again and re-apply.
    Conflict,
}

/// Where token-cache partitions are kept, one per user, for one client.
///
/// Every store runs the contract suite in `store_suite.rs` with one `token_store_suite!` line.
#[async_trait]
pub(crate) trait TokenStore: Send + Sync + fmt::Debug {
    /// The cache-hit fast path: the access token of the store's client serving `request` (ids of the request's
    /// scopes without the reserved ones; `None` when a scope was never issued) and valid for more than
    /// `min_remaining` seconds after `now` (the current Unix time), answered without a [`load`](Self::load).
    ///
    /// Synchronous because a cache hit must not pay for the async interface: a store answers here only from
    /// what it already holds in memory (the memory store's per-partition summaries, an L1 in front of a remote
    /// store), and says it cannot tell otherwise.
    ///
    /// What a store must guarantee, for the user's partition as [`load`](Self::load) would return it now:
    /// - `None` only when `load` would return `None` (no partition, or an expired one);
    /// - `Some(HotLookup::Hit(token))` only when `partition.find_access_token(client, scopes, now,
    ///   min_remaining)` finds an entry with the same secret, `expires_on` and `refresh_on`;
    /// - `Some(HotLookup::Miss)` only when those full rules find no token;
    /// - `Some(HotLookup::Unknown)` whenever it cannot tell any of these without loading, including whether
    ///   the partition exists: the caller then loads and applies the full rules.
    ///
    /// Answering `Unknown` is always correct, only slower; that is the default, for stores that keep no
    /// summaries (every cache hit then costs a `load`).
    fn find_hot(
        &self,
        _key: &HomeAccountId,
        _request: Option<&ScopeIds>,
        _now: u64,
        _min_remaining: u64,
    ) -> Option<HotLookup> {
        Some(HotLookup::Unknown)
    }

    /// The user's partition, or `None` when absent or expired.
    async fn load(&self, key: &HomeAccountId) -> Result<Option<Stored>, StoreError>;

    /// Writes the partition if the stored version is still `expected` (`None`: only if absent), keeping it
    /// until `expires_at` (Unix seconds; from that second on it is absent to every reader and writer). A new
    /// version is never one the store handed out before, even for a partition removed and created again.
    async fn save(
        &self,
        key: &HomeAccountId,
        expected: Option<u64>,
        partition: Arc<CachePartition>,
        expires_at: u64,
    ) -> Result<Saved, StoreError>;

    /// Deletes the user's partition; deleting an absent one is not an error.
    async fn remove(&self, key: &HomeAccountId) -> Result<(), StoreError>;

    /// How many partitions are stored (for operations and tests; may be slow on remote stores).
    async fn count(&self) -> Result<usize, StoreError>;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::{Saved, StoreError, Stored, TokenStore};
    use crate::cache::memory::MemoryTokenStore;
    use crate::cache::schema::CachePartition;
    use crate::cache::store_suite::{CLIENT_ID, token_store_suite};
    use crate::cache::token_cache::TokenCache;
    use crate::provider::account::HomeAccountId;

    /// A store without summaries: the memory store's partitions behind the trait's default `find_hot`.
    #[derive(Debug)]
    struct LoadOnly(MemoryTokenStore);

    #[async_trait]
    impl TokenStore for LoadOnly {
        async fn load(&self, key: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
            self.0.load(key).await
        }

        async fn save(
            &self,
            key: &HomeAccountId,
            expected: Option<u64>,
            partition: Arc<CachePartition>,
            expires_at: u64,
        ) -> Result<Saved, StoreError> {
            self.0.save(key, expected, partition, expires_at).await
        }

        async fn remove(&self, key: &HomeAccountId) -> Result<(), StoreError> {
            self.0.remove(key).await
        }

        async fn count(&self) -> Result<usize, StoreError> {
            self.0.count().await
        }
    }

    fn load_only(max_users: std::num::NonZeroUsize, lifetime: std::time::Duration) -> TokenCache {
        TokenCache::with_store(
            Arc::new(LoadOnly(MemoryTokenStore::new(max_users, CLIENT_ID))),
            lifetime,
            &crate::provider::authority::Authority::parse("https://login.example").unwrap(),
        )
    }

    token_store_suite!(
        load_only_store,
        |max_users, lifetime| async move { load_only(max_users, lifetime) },
        eviction = least_recently_used,
        fast_path = load_only
    );
}
