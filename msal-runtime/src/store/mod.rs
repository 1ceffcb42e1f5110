//! Where state lives when it leaves the process: a store shared by instances and restarts (an embedded
//! database file, or Redis), behind one small seam ([`shared::SharedStore`]).
//!
//! The token cache, the sessions and the one-redemption guarantee each keep a bounded L1 in process memory
//! and write through to the shared store (see `cache::tiered`, `session::shared`, `sign_in::once_shared`, `acquire::lease`).
//! What they write is sealed first ([`sealing`]): values are encrypted with a key of the app's key ring, and
//! names are keyed hashes, so neither a token nor a user identifier reaches the store in plaintext.
//!
//! docs/ARCHITECTURE.md ("Stores") says what the L1 may serve and how another instance's write reaches it.

pub(crate) mod changes;
pub(crate) mod error;
pub(crate) mod observed;
pub(crate) mod open;
pub(crate) mod redis;
pub(crate) mod sealing;
pub(crate) mod shared;
pub(crate) mod sqlite;
#[cfg(test)]
pub(crate) mod suite;

use std::sync::Arc;

/// The shared store of an app and its key ring, as the tiers take them.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn shared::SharedStore>,
    pub(crate) keys: Arc<sealing::StoreKeys>,
}
