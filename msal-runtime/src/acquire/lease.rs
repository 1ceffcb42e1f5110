//! Refreshes of one user are serialised across instances: the refresher takes the user's lease in the shared
//! store (a create-only write that expires) before it reads the refresh token, and gives it back when done.
//! An instance that waited for the lease then reads the cache again and finds the token the holder bought,
//! so that, with rotating refresh tokens, no instance presents a refresh token another has already used (the
//! provider would revoke the whole grant).
//!
//! A holder that dies keeps the lease until it expires: longer than a refresh can take (two token requests,
//! each bounded by the HTTP timeout, and the pause between them), so a live holder never loses it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;
use crate::random::random_bytes;
use crate::store::Shared;
use crate::store::error::StoreError;
use crate::store::shared::{Expect, Kind, SharedStore, StoreKey, Written};

/// How often a waiting instance tries again.
const RETRY: Duration = Duration::from_millis(20);

/// The refresh leases of an app.
#[derive(Debug)]
pub(crate) struct RefreshLeases {
    shared: Shared,
    /// How long a lease lasts unless given back.
    ttl: Duration,
}

/// A lease held; given back when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    store: Arc<dyn SharedStore>,
    key: StoreKey,
    version: u64,
}

impl RefreshLeases {
    /// Leases lasting `ttl`, which must exceed the longest refresh.
    pub(crate) fn new(shared: Shared, ttl: Duration) -> Self {
        Self { shared, ttl }
    }

    /// Takes the user's lease, waiting for another holder at most as long as a lease lasts.
    pub(crate) async fn acquire(&self, account: &HomeAccountId) -> Result<Lease, StoreError> {
        let key = self.shared.keys.name(Kind::RefreshLease, account.as_str().as_bytes());
        // The value only tells holders apart in a dump; the version is what gives the lease back.
        let holder = random_bytes::<16>();
        let started = Instant::now();
        loop {
            let expires_at = unix_now() + self.ttl.as_secs().max(1);
            if let Written::Done { version } = self.shared.store.put(&key, Expect::Absent, &holder, expires_at).await? {
                return Ok(Lease { store: Arc::clone(&self.shared.store), key, version });
            }
            if started.elapsed() > self.ttl + Duration::from_secs(1) {
                return Err(StoreError::Contention);
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

impl Drop for Lease {
    /// Gives the lease back (only this holder's: the delete names its version), in the background.
    fn drop(&mut self) {
        let (store, key, version) = (Arc::clone(&self.store), self.key, self.version);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = store.delete(&key, Expect::Version(version)).await {
                    tracing::warn!(error = %error, "a refresh lease could not be given back; it expires by itself");
                }
            });
        }
    }
}
