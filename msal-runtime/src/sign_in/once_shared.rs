//! One redemption per sign-in across instances (docs/SECURITY.md §6): before an instance redeems a code, it
//! claims the sign-in in the shared store with a create-only write; an instance whose claim finds one there
//! redeems nothing and waits for the outcome the claimer writes, polling. The in-process claim (`once`)
//! still comes first, so duplicates on one instance make one shared claim between them.
//!
//! A store that cannot be reached redeems nothing: the guarantee is kept over availability, and the browser is
//! asked to retry (its sign-in cookie is kept). The entry lives until the sign-in's own deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sign_in::once;
use crate::store::error::StoreError;
use crate::store::sealing::StoreKeys;
use crate::store::shared::{Expect, Kind, SharedStore, StoreKey, Written};

/// How often a waiting instance looks for the outcome.
const POLL: Duration = Duration::from_millis(50);

/// A sign-in's redemption as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SharedOutcome {
    /// Claimed; being redeemed.
    Claimed,
    /// Ended in a session.
    SignedIn { session: String, return_url: String },
    /// Rejected, with the status and message shown.
    Rejected { status: u16, message: String },
}

/// The result of claiming a sign-in in the shared store.
#[derive(Debug)]
pub(crate) enum SharedClaim {
    /// This instance redeems; [`SharedRedemptions::finish`] records the outcome under this version.
    Redeem { version: u64 },
    /// Another instance redeemed it; this is how it ended.
    Finished(SharedOutcome),
    /// Another instance claimed it and did not finish in time.
    Interrupted,
}

/// The shared half of the one-redemption store.
#[derive(Debug)]
pub(crate) struct SharedRedemptions {
    shared: Arc<dyn SharedStore>,
    keys: Arc<StoreKeys>,
    wait: Duration,
}

impl SharedRedemptions {
    /// Waiting at most `wait` for another instance's outcome.
    pub(crate) fn new(shared: Arc<dyn SharedStore>, keys: Arc<StoreKeys>, wait: Duration) -> Self {
        Self { shared, keys, wait }
    }

    fn key(&self, state: &str) -> StoreKey {
        self.keys.name(Kind::Redemption, &once::key(state))
    }

    fn seal(&self, key: &StoreKey, outcome: &SharedOutcome) -> Vec<u8> {
        self.keys.seal(key, &serde_json::to_vec(outcome).expect("an outcome serializes"))
    }

    /// The stored outcome; a value that does not open or parse is read as a claim that never finishes (it
    /// is never redeemed again either).
    async fn read(&self, key: &StoreKey) -> Result<Option<SharedOutcome>, StoreError> {
        let Some(entry) = self.shared.get(key).await? else { return Ok(None) };
        let outcome = self.keys.open(key, &entry.value).ok().and_then(|json| serde_json::from_slice(&json).ok());
        if outcome.is_none() {
            tracing::warn!("a stored sign-in redemption did not open; treated as interrupted");
        }
        Ok(Some(outcome.unwrap_or(SharedOutcome::Claimed)))
    }

    /// Claims the sign-in of `state` until `expires_at`, or waits for the instance that did.
    pub(crate) async fn claim(&self, state: &str, expires_at: u64) -> Result<SharedClaim, StoreError> {
        let key = self.key(state);
        let claimed = self.seal(&key, &SharedOutcome::Claimed);
        if let Written::Done { version } = self.shared.put(&key, Expect::Absent, &claimed, expires_at).await? {
            return Ok(SharedClaim::Redeem { version });
        }
        let started = Instant::now();
        loop {
            match self.read(&key).await? {
                Some(SharedOutcome::Claimed) => {}
                Some(outcome) => return Ok(SharedClaim::Finished(outcome)),
                // Expired between the claim and now: its sign-in has expired too.
                None => return Ok(SharedClaim::Interrupted),
            }
            if started.elapsed() >= self.wait {
                return Ok(SharedClaim::Interrupted);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Records how the sign-in this instance claimed (as `version`) ended.
    pub(crate) async fn finish(
        &self,
        state: &str,
        version: u64,
        outcome: &SharedOutcome,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let key = self.key(state);
        self.shared.put(&key, Expect::Version(version), &self.seal(&key, outcome), expires_at).await?;
        Ok(())
    }

    /// How the sign-in of `state` ended, if an instance finished it.
    pub(crate) async fn finished(&self, state: &str) -> Result<Option<SharedOutcome>, StoreError> {
        Ok(self.read(&self.key(state)).await?.filter(|outcome| *outcome != SharedOutcome::Claimed))
    }
}
