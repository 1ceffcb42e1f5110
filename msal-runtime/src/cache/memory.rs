//! The default store: partitions in process memory, bounded, least recently used evicted first.
//!
//! Eviction is CLOCK (second chance), the usual approximation of LRU: a hit only sets a flag in the slot it
//! already reads, where a strict LRU list would relink neighbours, which are cache misses of their own.
//! Slots live inline in the hash table (no node per entry), and each carries the summary of its access
//! tokens (`hot`), so a cache hit among 100,000 users stays a handful of memory reads. Sharded so that
//! requests of different users rarely contend; with few users (small bounds) one shard keeps eviction exact.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::cache::hot::{HotLookup, HotTokens, ScopeIds};
use crate::cache::schema::CachePartition;
use crate::cache::store::{Saved, StoreError, Stored, TokenStore};
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;

const SHARDS: usize = 16;

/// Account ids up to this length (Entra's `uid.utid` is 73 bytes) are kept inside the hash table's slot, so
/// comparing a key reads no other memory.
const INLINE_KEY: usize = 87;

/// The key of a slot: the account id's bytes, inline when short enough.
#[derive(Clone, PartialEq, Eq, Hash)]
enum SlotKey {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<str>),
}

impl SlotKey {
    fn of(account: &HomeAccountId) -> Self {
        let id = account.as_str().as_bytes();
        if id.len() <= INLINE_KEY {
            let mut bytes = [0; INLINE_KEY];
            bytes[..id.len()].copy_from_slice(id);
            SlotKey::Inline { len: id.len() as u8, bytes }
        } else {
            SlotKey::Heap(account.as_str().into())
        }
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// In the order a cache hit reads it (`repr(C)`), right after the key in the table's bucket.
#[repr(C)]
struct Slot {
    expires_at: u64,
    /// CLOCK's reference bit: set by a hit, cleared when eviction passes by.
    referenced: bool,
    hot: HotTokens,
    version: u64,
    partition: Arc<CachePartition>,
}

struct Shard {
    slots: FastMap<SlotKey, Slot>,
    /// Eviction candidates in insertion order; may hold keys removed since (skipped when reached).
    clock: VecDeque<SlotKey>,
    capacity: usize,
}

impl Shard {
    /// The live slot of `key`, marked as used; an expired one is dropped.
    fn live(&mut self, key: SlotKey, now: u64) -> Option<&mut Slot> {
        match self.slots.entry(key) {
            Entry::Occupied(entry) if entry.get().expires_at > now => {
                let slot = entry.into_mut();
                slot.referenced = true;
                Some(slot)
            }
            Entry::Occupied(entry) => {
                entry.remove();
                None
            }
            Entry::Vacant(_) => None,
        }
    }

    /// Evicts one slot: the first in clock order not used since the hand last passed it.
    fn evict_one(&mut self) {
        while let Some(key) = self.clock.pop_front() {
            match self.slots.get_mut(&key) {
                None => continue,
                Some(slot) if slot.referenced => {
                    slot.referenced = false;
                    self.clock.push_back(key);
                }
                Some(_) => {
                    self.slots.remove(&key);
                    return;
                }
            }
        }
    }

    fn insert(&mut self, key: &SlotKey, slot: Slot) {
        if let Some(existing) = self.slots.get_mut(key) {
            *existing = slot;
            return;
        }
        if self.slots.len() >= self.capacity {
            self.evict_one();
        }
        self.slots.insert(key.clone(), slot);
        self.clock.push_back(key.clone());
        // Removed keys leave stale candidates behind; keep the queue proportional to the live slots.
        if self.clock.len() > 2 * self.capacity.max(self.slots.len()) {
            self.clock = self.slots.keys().cloned().collect();
        }
    }
}

/// In-memory token store holding at most `max_users` partitions of one client.
pub(crate) struct MemoryTokenStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: foldhash::fast::RandomState,
    client_id: String,
    /// Versions are never reused, even across remove and re-create, so a stale writer cannot win (ABA).
    next_version: AtomicU64,
}

impl std::fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTokenStore").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

impl MemoryTokenStore {
    pub(crate) fn new(max_users: NonZeroUsize, client_id: &str) -> Self {
        // Each shard evicts on its own; many shards only pay off when each still holds many users.
        let shards = if max_users.get() >= SHARDS * 64 { SHARDS } else { 1 };
        let capacity = max_users.get().div_ceil(shards);
        Self {
            shards: (0..shards)
                .map(|_| Mutex::new(Shard { slots: FastMap::default(), clock: VecDeque::new(), capacity }))
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            client_id: client_id.to_owned(),
            next_version: AtomicU64::new(1),
        }
    }

    fn shard(&self, key: &SlotKey) -> &Mutex<Shard> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        &self.shards[index]
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    /// From the partition's summary (see `hot`), which answers exactly like the full rules or says it cannot
    /// tell; `None` when the user has no live partition, which this store knows for certain.
    fn find_hot(
        &self,
        account: &HomeAccountId,
        request: Option<&ScopeIds>,
        now: u64,
        min_remaining: u64,
    ) -> Option<HotLookup> {
        let key = SlotKey::of(account);
        let mut shard = self.shard(&key).lock();
        let slot = shard.live(key, now)?;
        Some(slot.hot.find(request, now, min_remaining))
    }

    async fn load(&self, account: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
        let key = SlotKey::of(account);
        let mut shard = self.shard(&key).lock();
        Ok(shard
            .live(key, unix_now())
            .map(|slot| Stored { version: slot.version, partition: Arc::clone(&slot.partition) }))
    }

    async fn save(
        &self,
        account: &HomeAccountId,
        expected: Option<u64>,
        partition: Arc<CachePartition>,
        expires_at: u64,
    ) -> Result<Saved, StoreError> {
        // Summarised before taking the lock: it is the slow part of a write.
        let hot = HotTokens::of(&partition, &self.client_id);
        let key = SlotKey::of(account);
        let mut shard = self.shard(&key).lock();
        let current = shard.slots.get(&key).filter(|slot| slot.expires_at > unix_now()).map(|slot| slot.version);
        if current != expected {
            return Ok(Saved::Conflict);
        }
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        shard.insert(&key, Slot { version, partition, expires_at, hot, referenced: false });
        Ok(Saved::Stored { version })
    }

    async fn remove(&self, account: &HomeAccountId) -> Result<(), StoreError> {
        let key = SlotKey::of(account);
        self.shard(&key).lock().slots.remove(&key);
        Ok(())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let now = unix_now();
        // Expired slots linger until touched or evicted; they are gone to every reader, so count them out.
        // Dropping them here too costs nothing more than skipping them (the walk reads every slot anyway).
        Ok(self
            .shards
            .iter()
            .map(|shard| {
                let mut shard = shard.lock();
                shard.slots.retain(|_, slot| slot.expires_at > now);
                shard.slots.len()
            })
            .sum())
    }
}

#[cfg(test)]
mod tests {
    use crate::cache::store_suite::{CLIENT_ID, token_store_suite};
    use crate::cache::token_cache::TokenCache;

    token_store_suite!(
        memory_store,
        |max_users, lifetime| async move { TokenCache::in_memory(max_users, lifetime, CLIENT_ID) },
        eviction = least_recently_used,
        fast_path = summaries
    );
}
