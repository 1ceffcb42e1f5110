//! The default store: partitions in process memory, bounded, least recently used evicted first.
//!
//! Sharded so that concurrent requests of different users rarely contend on a lock; with few users (small
//! bounds) one shard keeps the eviction order exact.

use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use lru::LruCache;
use parking_lot::Mutex;

use crate::account::HomeAccountId;
use crate::cache::schema::CachePartition;
use crate::cache::store::{Saved, StoreError, Stored, TokenStore};

const SHARDS: usize = 16;

struct Slot {
    version: u64,
    partition: Arc<CachePartition>,
    expires_at: u64,
}

/// In-memory token store holding at most `max_users` partitions.
pub(crate) struct MemoryTokenStore {
    shards: Box<[Mutex<LruCache<HomeAccountId, Slot>>]>,
    hasher: RandomState,
    /// Versions are never reused, even across remove and re-create, so a stale writer cannot win (ABA).
    next_version: AtomicU64,
}

impl std::fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTokenStore").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

impl MemoryTokenStore {
    pub(crate) fn new(max_users: NonZeroUsize) -> Self {
        // Each shard evicts on its own; many shards only pay off when each still holds many users.
        let shards = if max_users.get() >= SHARDS * 64 { SHARDS } else { 1 };
        let per_shard = NonZeroUsize::new(max_users.get().div_ceil(shards)).expect("max_users is not zero");
        Self {
            shards: (0..shards).map(|_| Mutex::new(LruCache::new(per_shard))).collect(),
            hasher: RandomState::new(),
            next_version: AtomicU64::new(1),
        }
    }

    fn shard(&self, key: &HomeAccountId) -> &Mutex<LruCache<HomeAccountId, Slot>> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        &self.shards[index]
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
        let mut shard = self.shard(key).lock();
        match shard.get(key) {
            Some(slot) if slot.expires_at > now() => {
                Ok(Some(Stored { version: slot.version, partition: Arc::clone(&slot.partition) }))
            }
            Some(_) => {
                shard.pop(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        key: &HomeAccountId,
        expected: Option<u64>,
        partition: Arc<CachePartition>,
        expires_at: u64,
    ) -> Result<Saved, StoreError> {
        let mut shard = self.shard(key).lock();
        let current = shard.peek(key).filter(|slot| slot.expires_at > now()).map(|slot| slot.version);
        if current != expected {
            return Ok(Saved::Conflict);
        }
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        shard.push(key.clone(), Slot { version, partition, expires_at });
        Ok(Saved::Stored { version })
    }

    async fn remove(&self, key: &HomeAccountId) -> Result<(), StoreError> {
        self.shard(key).lock().pop(key);
        Ok(())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.shards.iter().map(|shard| shard.lock().len()).sum())
    }
}
