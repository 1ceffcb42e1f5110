//! Where state lives when it leaves the process: a store shared by instances and restarts (an embedded
//! database file, or Redis), behind one small seam ([`shared::SharedStore`]).
//!
//! The token cache, the sessions and the one-redemption guarantee each keep a bounded L1 in process memory
//! and write through to the shared store (see `cache::tiered`, `session::tiered`, `sign_in::once_shared`).
//! What they write is sealed first ([`sealing`]): values are encrypted with a key of the app's key ring, and
//! names are keyed hashes, so neither a token nor a user identifier reaches the store in plaintext.
//!
//! docs/ARCHITECTURE.md ("Stores") says what the L1 may serve and how another instance's write reaches it.

// Until the tiers (`cache::tiered`, `session::tiered`, `sign_in::once_shared`) use the seam, only its tests do:
// in the library build it is dead code, which `clippy -D warnings` would refuse.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod error;
pub(crate) mod sealing;
pub(crate) mod shared;
pub(crate) mod sqlite;
#[cfg(test)]
pub(crate) mod suite;
