//! The default store: partitions in process memory, packed, bounded, least recently used evicted first.
//!
//! Eviction is CLOCK (second chance), the usual approximation of LRU: a hit only sets a flag in the slot it
//! already reads, where a strict LRU list would relink neighbours, which are cache misses of their own. The
//! slots of a shard are one array that the clock's hand sweeps, and an index of slot numbers (hashbrown's
//! `HashTable`) finds a user's slot, so the store spends a few bytes per user beyond the slot itself. A slot
//! holds the user's packed partition (see `packed`), whose access tokens a cache hit reads directly. Sharded so that requests of
//! different users rarely contend; with few users (small bounds) one shard keeps eviction exact.

use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use hashbrown::HashTable;
use parking_lot::Mutex;

use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::packed::partition::PackedPartition;
use crate::cache::schema::CachePartition;
use crate::cache::store::{Saved, StoreError, Stored, TokenStore};
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;

const SHARDS: usize = 16;

/// One user's place in a shard. The account id is the start of the packed partition's buffer: comparing it
/// reads memory a cache hit reads anyway.
struct Slot {
    hash: u64,
    expires_at: u64,
    /// `None`: a free slot, on the free list and absent from the index.
    partition: Option<PackedPartition>,
    version: u64,
    /// CLOCK's reference bit: set by a hit, cleared when the hand passes by.
    referenced: bool,
}

struct Shard {
    /// Slot numbers, found by the key's hash.
    index: HashTable<u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// CLOCK's hand: the next slot eviction looks at.
    hand: usize,
    capacity: usize,
}

impl Shard {
    fn find(&self, hash: u64, key: &str) -> Option<usize> {
        let slots = &self.slots;
        let found = self.index.find(hash, |&i| {
            let slot = &slots[i as usize];
            slot.hash == hash && slot.partition.as_ref().is_some_and(|partition| partition.has_key(key))
        });
        found.map(|&i| i as usize)
    }

    /// The live slot of `key`, marked as used; an expired one is freed.
    fn live(&mut self, hash: u64, key: &str, now: u64) -> Option<&mut Slot> {
        let i = self.find(hash, key)?;
        if self.slots[i].expires_at <= now {
            self.free_slot(i);
            return None;
        }
        let slot = &mut self.slots[i];
        slot.referenced = true;
        Some(slot)
    }

    fn free_slot(&mut self, i: usize) {
        if let Ok(entry) = self.index.find_entry(self.slots[i].hash, |&j| j as usize == i) {
            entry.remove();
        }
        self.slots[i].partition = None;
        self.free.push(i as u32);
    }

    /// Evicts one user: the first the hand finds not used since it last passed. Each slot is passed at most
    /// twice (clearing its flag, then evicting it).
    fn evict_one(&mut self) {
        for _ in 0..2 * self.slots.len() {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let slot = &mut self.slots[i];
            if slot.partition.is_none() {
                continue;
            }
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            self.free_slot(i);
            return;
        }
    }

    fn insert(&mut self, key: &str, slot: Slot) {
        if let Some(i) = self.find(slot.hash, key) {
            self.slots[i] = slot;
            return;
        }
        if self.index.len() >= self.capacity {
            self.evict_one();
        }
        let hash = slot.hash;
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(hash, i, |&j| slots[j as usize].hash);
    }

    /// Frees every expired slot; they are gone to every reader already.
    fn drop_expired(&mut self, now: u64) {
        for i in 0..self.slots.len() {
            if self.slots[i].partition.is_some() && self.slots[i].expires_at <= now {
                self.free_slot(i);
            }
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
                .map(|_| {
                    Mutex::new(Shard {
                        index: HashTable::new(),
                        slots: Vec::new(),
                        free: Vec::new(),
                        hand: 0,
                        capacity,
                    })
                })
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            client_id: client_id.to_owned(),
            next_version: AtomicU64::new(1),
        }
    }

    /// The key, its hash, and its shard.
    fn locate<'a>(&self, account: &'a HomeAccountId) -> (&'a str, u64, &Mutex<Shard>) {
        let key = account.as_str();
        let hash = self.hasher.hash_one(key);
        // The index uses the hash's top bits (hashbrown's control bytes) and low bits (its buckets); the
        // shard takes bits from the middle, so that a shard's users still spread over its index.
        let shard = &self.shards[((hash >> 32) as usize) % self.shards.len()];
        (key, hash, shard)
    }
}

/// As the L1 of a shared store (see `cache::tiered`): copies of what the shared store holds, at its versions.
impl MemoryTokenStore {
    /// Keeps `partition` as the shared store's `version` of it, replacing whatever is held.
    pub(crate) fn keep(
        &self,
        account: &HomeAccountId,
        partition: &CachePartition,
        version: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let (key, hash, shard) = self.locate(account);
        let packed = PackedPartition::pack(key, partition, &self.client_id).ok_or(StoreError::TooLarge)?;
        shard.lock().insert(key, Slot { hash, expires_at, partition: Some(packed), version, referenced: false });
        Ok(())
    }

    /// Forgets the user's copy.
    pub(crate) fn forget(&self, account: &HomeAccountId) {
        let (key, hash, shard) = self.locate(account);
        let mut shard = shard.lock();
        if let Some(i) = shard.find(hash, key) {
            shard.free_slot(i);
        }
    }

    /// Forgets every copy.
    pub(crate) fn forget_all(&self) {
        for shard in &self.shards {
            let mut shard = shard.lock();
            for i in 0..shard.slots.len() {
                if shard.slots[i].partition.is_some() {
                    shard.free_slot(i);
                }
            }
        }
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    /// From the packed partition, which answers exactly like the full rules or says it cannot tell; `None`
    /// when the user has no live partition, which this store knows for certain.
    fn find_hot(
        &self,
        account: &HomeAccountId,
        request: Option<&ScopeIds>,
        now: u64,
        min_remaining: u64,
    ) -> Option<HotLookup> {
        let (key, hash, shard) = self.locate(account);
        let mut shard = shard.lock();
        let slot = shard.live(hash, key, now)?;
        Some(slot.partition.as_ref()?.find(request, now, min_remaining))
    }

    async fn load(&self, account: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
        let (key, hash, shard) = self.locate(account);
        let mut shard = shard.lock();
        Ok(shard.live(hash, key, unix_now()).and_then(|slot| {
            let partition = slot.partition.as_ref()?.unpack();
            if partition.is_none() {
                tracing::error!(home_account_id = ?key, "a cached partition could not be read back; the user signs in again");
            }
            Some(Stored { version: slot.version, partition: Arc::new(partition?) })
        }))
    }

    async fn save(
        &self,
        account: &HomeAccountId,
        expected: Option<u64>,
        partition: Arc<CachePartition>,
        expires_at: u64,
    ) -> Result<Saved, StoreError> {
        // Packed before taking the lock: it is the slow part of a write.
        let (key, hash, shard) = self.locate(account);
        let packed = PackedPartition::pack(key, &partition, &self.client_id).ok_or(StoreError::TooLarge)?;
        let mut shard = shard.lock();
        let current = shard
            .find(hash, key)
            .map(|i| &shard.slots[i])
            .filter(|slot| slot.expires_at > unix_now())
            .map(|slot| slot.version);
        if current != expected {
            return Ok(Saved::Conflict);
        }
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        shard.insert(key, Slot { hash, expires_at, partition: Some(packed), version, referenced: false });
        Ok(Saved::Stored { version })
    }

    async fn remove(&self, account: &HomeAccountId) -> Result<(), StoreError> {
        self.forget(account);
        Ok(())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let now = unix_now();
        // Expired slots linger until touched or evicted; they are gone to every reader, so count them out.
        Ok(self
            .shards
            .iter()
            .map(|shard| {
                let mut shard = shard.lock();
                shard.drop_expired(now);
                shard.index.len()
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
