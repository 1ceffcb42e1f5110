//! The token cache over a shared store: a bounded L1 in process memory (the packed partitions of `memory`)
//! in front of the embedded file or Redis (docs/ARCHITECTURE.md, "Stores").
//!
//! What the L1 may serve: cache hits only ([`TokenStore::find_hot`]), an access token it holds that is valid
//! for the request. Such a token stays valid wherever it was refreshed since (an access token is not revoked
//! by a refresh), and a signed-out user has no session left to ask for it on any instance. Everything else
//! reads the shared store: misses, refreshes (under the refresh lease, so the refresh token is always the
//! newest), and every read-modify-write, which is a compare-and-swap on the shared store's version. After a
//! write the other instances hear of it (`store::changes`) and forget their copy.
//!
//! Stored values are the entry's deadline (8 bytes, big-endian Unix seconds, which the L1's copy keeps too)
//! and the partition as MSAL JSON, sealed (`store::sealing`), under a keyed hash of the home account id. An entry that does not open (tampered with, or sealed with a key this instance lacks) reads as
//! absent and is logged; a write replaces it.

use std::sync::{Arc, Weak};

use async_trait::async_trait;

use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::memory::MemoryTokenStore;
use crate::cache::schema::CachePartition;
use crate::cache::store::{Saved, StoreError, Stored, TokenStore};
use crate::provider::account::HomeAccountId;
use crate::store::changes::{Changes, Heard};
use crate::store::sealing::StoreKeys;
use crate::store::shared::{Expect, Kind, SharedStore, StoreKey, Versioned, Written};

/// A token store: L1 in memory, the shared store behind it.
#[derive(Debug)]
pub(crate) struct TieredTokenStore {
    l1: Arc<MemoryTokenStore>,
    shared: Arc<dyn SharedStore>,
    keys: Arc<StoreKeys>,
    changes: Changes,
}

impl TieredTokenStore {
    /// The store, listening for other instances' changes for as long as it lives.
    pub(crate) fn new(l1: MemoryTokenStore, shared: Arc<dyn SharedStore>, keys: Arc<StoreKeys>) -> Self {
        let l1 = Arc::new(l1);
        let changes = Changes::new(Arc::clone(&shared), Arc::clone(&keys));
        let weak: Weak<MemoryTokenStore> = Arc::downgrade(&l1);
        changes.listen(move |heard| {
            let Some(l1) = weak.upgrade() else { return false };
            match heard {
                Heard::Changed { kind: Kind::Tokens, identifier } => match String::from_utf8(identifier) {
                    Ok(account) => l1.forget(&HomeAccountId::new(account)),
                    Err(_) => l1.forget_all(),
                },
                Heard::Changed { .. } => {}
                Heard::Lost => l1.forget_all(),
            }
            true
        });
        Self { l1, shared, keys, changes }
    }

    fn key(&self, account: &HomeAccountId) -> StoreKey {
        self.keys.name(Kind::Tokens, account.as_str().as_bytes())
    }

    /// The partition in a stored entry and its deadline; `None` when it does not open or parse (logged,
    /// never a crash).
    fn open(&self, account: &HomeAccountId, key: &StoreKey, entry: &Versioned) -> Option<(CachePartition, u64)> {
        let plain = match self.keys.open(key, &entry.value) {
            Ok(plain) => plain,
            Err(error) => {
                tracing::warn!(error = %error, home_account_id = ?account, "a stored token cache entry did not open; read as absent");
                return None;
            }
        };
        let parsed = plain.split_first_chunk::<8>().and_then(|(expires_at, json)| {
            let partition = CachePartition::from_msal_json(std::str::from_utf8(json).ok()?).ok()?;
            Some((partition, u64::from_be_bytes(*expires_at)))
        });
        match parsed {
            Some(parsed) => Some(parsed),
            None => {
                tracing::warn!(home_account_id = ?account, "a stored token cache entry is not MSAL cache JSON; read as absent");
                None
            }
        }
    }
}

#[async_trait]
impl TokenStore for TieredTokenStore {
    /// From the L1 only; a user the L1 does not hold is `Unknown` (the shared store may hold them).
    fn find_hot(
        &self,
        account: &HomeAccountId,
        request: Option<&ScopeIds>,
        now: u64,
        min_remaining: u64,
    ) -> Option<HotLookup> {
        Some(self.l1.find_hot(account, request, now, min_remaining).unwrap_or(HotLookup::Unknown))
    }

    /// From the shared store, always: a load precedes every write and every refresh. The L1 keeps the copy.
    async fn load(&self, account: &HomeAccountId) -> Result<Option<Stored>, StoreError> {
        let key = self.key(account);
        let Some(entry) = self.shared.get(&key).await? else {
            self.l1.forget(account);
            return Ok(None);
        };
        let Some((partition, expires_at)) = self.open(account, &key, &entry) else {
            self.l1.forget(account);
            return Ok(None);
        };
        if let Err(error) = self.l1.keep(account, &partition, entry.version, expires_at) {
            tracing::warn!(error = %error, "a loaded partition too large for the L1");
        }
        Ok(Some(Stored { version: entry.version, partition: Arc::new(partition) }))
    }

    async fn save(
        &self,
        account: &HomeAccountId,
        expected: Option<u64>,
        partition: Arc<CachePartition>,
        expires_at: u64,
    ) -> Result<Saved, StoreError> {
        let key = self.key(account);
        let mut plain = expires_at.to_be_bytes().to_vec();
        plain.extend_from_slice(partition.to_msal_json().as_bytes());
        let sealed = self.keys.seal(&key, &plain);
        let mut expect = expected.map_or(Expect::Absent, Expect::Version);
        let mut written = self.shared.put(&key, expect, &sealed, expires_at).await?;
        if written == Written::Conflict && expected.is_none() {
            // An entry that does not open is absent to readers; the writer that found it absent replaces it.
            if let Some(entry) = self.shared.get(&key).await?
                && self.open(account, &key, &entry).is_none()
            {
                expect = Expect::Version(entry.version);
                written = self.shared.put(&key, expect, &sealed, expires_at).await?;
            }
        }
        match written {
            Written::Done { version } => {
                if let Err(error) = self.l1.keep(account, &partition, version, expires_at) {
                    tracing::warn!(error = %error, "a saved partition too large for the L1");
                    self.l1.forget(account);
                }
                self.changes.announce(Kind::Tokens, account.as_str().as_bytes()).await;
                Ok(Saved::Stored { version })
            }
            Written::Conflict => {
                self.l1.forget(account);
                Ok(Saved::Conflict)
            }
        }
    }

    async fn remove(&self, account: &HomeAccountId) -> Result<(), StoreError> {
        self.l1.forget(account);
        self.shared.delete(&self.key(account), Expect::Any).await?;
        self.changes.announce(Kind::Tokens, account.as_str().as_bytes()).await;
        Ok(())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        self.shared.count(Kind::Tokens).await
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use super::*;
    use crate::cache::store_suite::{CLIENT_ID, token_store_suite};
    use crate::cache::token_cache::TokenCache;
    use crate::clock::unix_now;
    use crate::store::sqlite::tests::fresh_handles;

    fn keys() -> Arc<StoreKeys> {
        Arc::new(StoreKeys::new(&[[5; 32]], CLIENT_ID))
    }

    fn tiered(shared: Arc<dyn SharedStore>, max_users: NonZeroUsize) -> TieredTokenStore {
        TieredTokenStore::new(MemoryTokenStore::new(max_users, CLIENT_ID), shared, keys())
    }

    fn cache(store: TieredTokenStore, lifetime: Duration) -> TokenCache {
        TokenCache::with_store(
            Arc::new(store),
            lifetime,
            &crate::provider::authority::Authority::parse("https://login.example").unwrap(),
        )
    }

    token_store_suite!(
        over_sqlite,
        |max_users, lifetime| async move { cache(tiered(fresh_handles().await.0, max_users), lifetime) },
        eviction = until_expiry,
        fast_path = l1
    );

    token_store_suite!(
        over_redis,
        |max_users, lifetime| async move {
            cache(tiered(crate::store::redis::tests::fresh_handles().await.0, max_users), lifetime)
        },
        eviction = until_expiry,
        fast_path = l1
    );

    fn partition(secret: &str) -> Arc<CachePartition> {
        crate::cache::store_suite::partition_with(secret)
    }

    async fn hot(store: &TieredTokenStore, account: &HomeAccountId) -> HotLookup {
        store.find_hot(account, None, unix_now(), 0).unwrap()
    }

    #[tokio::test]
    async fn another_instances_write_reaches_this_l1() {
        let (a, b) = fresh_handles().await;
        let (here, there) = (tiered(a, NonZeroUsize::new(10).unwrap()), tiered(b, NonZeroUsize::new(10).unwrap()));
        let alice = HomeAccountId::new("alice");
        let Saved::Stored { version } = here.save(&alice, None, partition("one"), unix_now() + 3600).await.unwrap()
        else {
            panic!("stored")
        };
        assert!(matches!(hot(&there, &alice).await, HotLookup::Unknown), "not held there yet");
        assert_eq!(there.load(&alice).await.unwrap().unwrap().version, version);
        assert!(!matches!(hot(&there, &alice).await, HotLookup::Unknown), "held there after a load");
        // A write here: the other instance forgets its copy (within the notice delay), and loads the new one.
        here.save(&alice, Some(version), partition("two"), unix_now() + 3600).await.unwrap();
        let started = std::time::Instant::now();
        while !matches!(hot(&there, &alice).await, HotLookup::Unknown) {
            assert!(started.elapsed() < Duration::from_secs(5), "the other instance heard of the write");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let loaded = there.load(&alice).await.unwrap().unwrap();
        assert_eq!(crate::cache::store_suite::secret_of(&loaded.partition), "two");
        // A removal there reaches here too.
        there.remove(&alice).await.unwrap();
        let started = std::time::Instant::now();
        while !matches!(hot(&here, &alice).await, HotLookup::Unknown) {
            assert!(started.elapsed() < Duration::from_secs(5), "this instance heard of the removal");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(here.load(&alice).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn stored_entries_are_sealed_and_a_tampered_one_reads_as_absent_until_rewritten() {
        let (shared, _) = fresh_handles().await;
        let store = tiered(Arc::clone(&shared), NonZeroUsize::new(10).unwrap());
        let alice = HomeAccountId::new("alice");
        store.save(&alice, None, partition("secret-token-value"), unix_now() + 3600).await.unwrap();
        let key = keys().name(Kind::Tokens, b"alice");
        let raw = shared.get(&key).await.unwrap().unwrap();
        for plain in [&b"secret-token-value"[..], b"alice"] {
            assert!(!raw.value.windows(plain.len()).any(|window| window == plain), "sealed");
        }
        // Tampered with (or sealed by another app's keys): absent to readers, logged, never a crash.
        let mut tampered = raw.value.clone();
        *tampered.last_mut().unwrap() ^= 1;
        shared.put(&key, Expect::Any, &tampered, unix_now() + 3600).await.unwrap();
        let fresh = tiered(Arc::clone(&shared), NonZeroUsize::new(10).unwrap());
        assert!(fresh.load(&alice).await.unwrap().is_none());
        // A writer that found it absent replaces it.
        assert!(matches!(
            fresh.save(&alice, None, partition("new"), unix_now() + 3600).await.unwrap(),
            Saved::Stored { .. }
        ));
        let loaded = fresh.load(&alice).await.unwrap().unwrap();
        assert_eq!(crate::cache::store_suite::secret_of(&loaded.partition), "new");
    }
}
