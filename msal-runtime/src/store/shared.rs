//! The seam to a store shared by instances and restarts: versioned byte values under opaque keys, with
//! compare-and-swap writes, expiry, and notices of other instances' writes.
//!
//! It knows nothing of tokens or sessions: the tiers above it (`cache::tiered`, `session::tiered`,
//! `sign_in::once_shared`) seal values and name keys before they get here. A backend implements these few
//! operations and runs the contract suite (`store::suite`) with one `shared_store_suite!` line.

use std::fmt;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::store::error::StoreError;

/// What a key holds; part of the key, so kinds never collide, and so a backend can count one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// One user's token-cache partition.
    Tokens,
    /// The lease of whoever refreshes one user's tokens right now (`acquire::refresh`).
    RefreshLease,
    /// One session's record.
    Session,
    /// One sign-in's redemption: claimed, then its outcome.
    Redemption,
}

impl Kind {
    /// A short tag for key names.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Kind::Tokens => "t",
            Kind::RefreshLease => "l",
            Kind::Session => "s",
            Kind::Redemption => "r",
        }
    }
}

/// A key in a shared store: its kind and a 32-byte name, a keyed hash (see `sealing`), never an identifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StoreKey {
    pub(crate) kind: Kind,
    pub(crate) name: [u8; 32],
}

impl StoreKey {
    /// The name in lowercase hex (64 characters).
    pub(crate) fn hex_name(&self) -> String {
        self.name.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The bytes a sealed value is bound to (its AEAD associated data), so that a value copied under another
    /// key does not open.
    pub(crate) fn bound_bytes(&self) -> [u8; 33] {
        let mut bytes = [0u8; 33];
        bytes[0] = self.kind.tag().as_bytes()[0];
        bytes[1..].copy_from_slice(&self.name);
        bytes
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.tag(), &self.hex_name()[..12])
    }
}

/// A value as stored, with the version a compare-and-swap must name.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Versioned {
    pub(crate) version: u64,
    pub(crate) value: Vec<u8>,
}

impl fmt::Debug for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Versioned {{ version: {}, value: {} bytes }}", self.version, self.value.len())
    }
}

/// What a write or a delete expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// No live entry (absent or expired).
    Absent,
    /// The live entry of this version.
    Version(u64),
    /// Anything: the write is unconditional.
    Any,
}

/// The outcome of a conditional write or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Done; for a write, the entry's new version.
    Done { version: u64 },
    /// The entry was not as expected; nothing changed.
    Conflict,
}

/// What a subscriber hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A notice published by an instance (this one included), as published.
    Published(Vec<u8>),
    /// Notices may have been lost (the connection to the store dropped, or this subscriber fell behind):
    /// whatever an L1 holds may be stale.
    Lost,
}

/// How many notices a subscriber may fall behind before it hears [`Notice::Lost`].
pub(crate) const NOTICE_BACKLOG: usize = 1024;

/// The largest notice a backend must carry.
pub(crate) const MAX_NOTICE_BYTES: usize = 512;

/// A store shared by instances and restarts.
///
/// The contract, which `store::suite` checks for every backend:
/// - An entry lives until its `expires_at` (Unix seconds): from that second on it is absent to every
///   operation, as if deleted (backends delete expired entries eventually, so that they do not pile up).
/// - Writes and deletes are atomic compare-and-swaps on [`Expect`]; concurrent writers of one key never both
///   succeed against the same expectation.
/// - A version is never one the store handed out for that key before, even after a delete: backends draw
///   versions from a counter or at random from 64 bits.
/// - Every call returns within the backend's configured timeout; a store that is down or slow answers
///   [`StoreError::Unavailable`], never hangs or panics, and works again by itself when the store is back.
/// - [`publish`](Self::publish) reaches every live subscriber of every instance sharing the store, at most
///   once, in order per publisher; when that cannot be promised (a dropped connection), subscribers hear
///   [`Notice::Lost`] before anything else.
#[async_trait]
pub(crate) trait SharedStore: Send + Sync + fmt::Debug {
    /// The live entry under `key`.
    async fn get(&self, key: &StoreKey) -> Result<Option<Versioned>, StoreError>;

    /// Writes `value` under `key` until `expires_at` if the entry is as `expect`ed.
    async fn put(&self, key: &StoreKey, expect: Expect, value: &[u8], expires_at: u64) -> Result<Written, StoreError>;

    /// Deletes the entry under `key` if it is as `expect`ed (`Done { version: 0 }`); deleting an absent
    /// entry with `Expect::Any` or `Expect::Absent` is done, not a conflict.
    async fn delete(&self, key: &StoreKey, expect: Expect) -> Result<Written, StoreError>;

    /// How many live entries of `kind` there are (for operations and tests; may be slow).
    async fn count(&self, kind: Kind) -> Result<usize, StoreError>;

    /// Sends `notice` (at most [`MAX_NOTICE_BYTES`]) to the subscribers of every instance.
    async fn publish(&self, notice: &[u8]) -> Result<(), StoreError>;

    /// A subscription to notices published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Notice>;
}
