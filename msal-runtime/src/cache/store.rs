//! The seam between the token cache and where partitions live.
//!
//! Writes are compare-and-swap on a version, so a read-modify-write of one user's partition by two requests
//! at once never loses an update, whatever the store (a mutex in memory, a transaction in a database,
//! `WATCH`/`MULTI` in Redis).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::cache::schema::CachePartition;
use crate::provider::account::HomeAccountId;

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

/// The token store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing store could not be read or written.
    #[error("the token cache store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Concurrent writers kept conflicting; the update was abandoned rather than retried forever.
    #[error("the token cache entry of one user was updated concurrently too many times")]
    Contention,
}

/// Where token-cache partitions are kept, one per user.
#[async_trait]
pub(crate) trait TokenStore: Send + Sync + fmt::Debug {
    /// The user's partition, or `None` when absent or expired.
    async fn load(&self, key: &HomeAccountId) -> Result<Option<Stored>, StoreError>;

    /// Writes the partition if the stored version is still `expected` (`None`: only if absent), keeping it
    /// until `expires_at` (Unix seconds).
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
