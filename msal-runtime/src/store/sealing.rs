//! Encryption at rest for everything that leaves the process, and names that reveal nothing
//! (docs/SECURITY.md §20a).
//!
//! The app's store key ring ([`StoreKeys`]): 32-byte keys, newest first. The newest seals; every one opens,
//! so that a rotated-out key keeps its entries readable until they are written again or expire. A sealed
//! value is `1 ‖ key id (4) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)`, its associated data the key it
//! is stored under, so a value copied to another user's key, or another kind's, does not open.
//!
//! Names are HMAC-SHA-256 of the app's client id and the identifier (a home account id, a session id), keyed
//! by the *oldest* key of the ring. The kind is not part of the name, so one user's entries of every kind (the
//! token cache, the refresh lease) share one name, which Redis Cluster hashes to one slot (see `redis`): rotating keys in front keeps every entry findable; dropping the
//! oldest key renames every entry (users sign in again, and the old entries expire).

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hmac::{Hmac, KeyInit as _, Mac};
use sha2::Sha256;

use crate::random::random_bytes;
use crate::store::shared::{Kind, StoreKey};

/// The length of one store key (`MSAL_STORE_KEYS` entries once base64-decoded).
pub const STORE_KEY_LEN: usize = 32;

const FORMAT: u8 = 1;
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// Why a stored value did not open: the tiers read it as a miss and log it, never crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unopened {
    /// Too short, or not of this format.
    #[error("not a sealed value")]
    Malformed,
    /// Sealed with a key that is not in the ring.
    #[error("sealed with a key that is not configured")]
    UnknownKey,
    /// Changed since it was sealed, or stored under another key.
    #[error("tampered with, or stored under another key")]
    Tampered,
}

struct SealingKey {
    id: [u8; KEY_ID_LEN],
    cipher: Aes256Gcm,
}

/// The app's store key ring. `Debug` shows how many keys, never a key.
pub(crate) struct StoreKeys {
    /// Newest first; the first seals.
    keys: Vec<SealingKey>,
    /// Keyed by the oldest key: names must not change when a key is added in front.
    naming: Hmac<Sha256>,
    namespace: Vec<u8>,
}

impl fmt::Debug for StoreKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKeys").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

/// A key derived from `key` for one `purpose`, so that one configured key never serves two algorithms.
fn derive(key: &[u8; STORE_KEY_LEN], purpose: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl StoreKeys {
    /// The ring of `keys` (newest first; at least one) for the app `namespace` (its client id).
    pub(crate) fn new(keys: &[[u8; STORE_KEY_LEN]], namespace: &str) -> Self {
        let oldest = keys.last().expect("a store key ring has at least one key");
        let keys = keys
            .iter()
            .map(|key| {
                let id = derive(key, "msal-runtime store key id v1");
                let cipher = Aes256Gcm::new_from_slice(&derive(key, "msal-runtime store sealing v1"))
                    .expect("AES-256 takes 32 bytes");
                SealingKey { id: id[..KEY_ID_LEN].try_into().expect("4 bytes"), cipher }
            })
            .collect();
        let naming = Hmac::<Sha256>::new_from_slice(&derive(oldest, "msal-runtime store naming v1"))
            .expect("HMAC takes any key length");
        Self { keys, naming, namespace: namespace.as_bytes().to_vec() }
    }

    /// The key of `identifier`'s entry of `kind`: a keyed hash, the same on every instance with this ring.
    pub(crate) fn name(&self, kind: Kind, identifier: &[u8]) -> StoreKey {
        let mut mac = self.naming.clone();
        // Length-prefixed, so that no two (namespace, identifier) pairs hash the same input.
        mac.update(&(self.namespace.len() as u64).to_be_bytes());
        mac.update(&self.namespace);
        mac.update(identifier);
        StoreKey { kind, name: mac.finalize().into_bytes().into() }
    }

    /// `plaintext` sealed with the newest key, bound to `key`.
    pub(crate) fn seal(&self, key: &StoreKey, plaintext: &[u8]) -> Vec<u8> {
        self.seal_bound(&key.bound_bytes(), plaintext)
    }

    /// The plaintext of a value stored under `key`.
    pub(crate) fn open(&self, key: &StoreKey, sealed: &[u8]) -> Result<Vec<u8>, Unopened> {
        self.open_bound(&key.bound_bytes(), sealed)
    }

    /// A notice to other instances, sealed (it crosses the store like any value).
    pub(crate) fn seal_notice(&self, plaintext: &[u8]) -> Vec<u8> {
        self.seal_bound(NOTICE, plaintext)
    }

    pub(crate) fn open_notice(&self, sealed: &[u8]) -> Result<Vec<u8>, Unopened> {
        self.open_bound(NOTICE, sealed)
    }

    fn seal_bound(&self, bound: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let newest = &self.keys[0];
        let nonce = random_bytes::<NONCE_LEN>();
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(FORMAT);
        sealed.extend_from_slice(&newest.id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = newest
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), bound, &mut sealed[HEADER_LEN..])
            .expect("AES-GCM seals anything shorter than 64 GiB");
        sealed.extend_from_slice(&tag);
        sealed
    }

    fn open_bound(&self, bound: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unopened> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != FORMAT {
            return Err(Unopened::Malformed);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let (id, nonce) = (&header[1..1 + KEY_ID_LEN], &header[1 + KEY_ID_LEN..]);
        let mut candidates = self.keys.iter().filter(|key| key.id == id).peekable();
        if candidates.peek().is_none() {
            return Err(Unopened::UnknownKey);
        }
        for key in candidates {
            let mut plaintext = ciphertext.to_vec();
            let opened = key.cipher.decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                bound,
                &mut plaintext,
                Tag::from_slice(tag),
            );
            if opened.is_ok() {
                return Ok(plaintext);
            }
        }
        Err(Unopened::Tampered)
    }
}

/// The associated data of notices: never the 33 bytes of a store key.
const NOTICE: &[u8] = b"msal-runtime notice";

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[u8]) -> StoreKeys {
        let keys: Vec<[u8; 32]> = keys.iter().map(|&byte| [byte; 32]).collect();
        StoreKeys::new(&keys, "client")
    }

    #[test]
    fn values_open_under_their_own_key_only() {
        let keys = ring(&[1]);
        let alice = keys.name(Kind::Tokens, b"alice");
        let bob = keys.name(Kind::Tokens, b"bob");
        let sealed = keys.seal(&alice, b"refresh token");
        assert_eq!(keys.open(&alice, &sealed).unwrap(), b"refresh token");
        assert!(!sealed.windows(7).any(|window| window == b"refresh"), "encrypted");
        assert_eq!(keys.open(&bob, &sealed), Err(Unopened::Tampered), "copied to another user");
        assert_eq!(keys.open(&keys.name(Kind::Session, b"alice"), &sealed), Err(Unopened::Tampered));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(keys.open(&alice, &flipped), Err(Unopened::Tampered));
        assert_eq!(keys.open(&alice, &sealed[..20]), Err(Unopened::Malformed));
        assert_eq!(keys.open(&alice, b""), Err(Unopened::Malformed));
        assert_eq!(ring(&[2]).open(&alice, &sealed), Err(Unopened::UnknownKey), "another app's key");
        assert_ne!(keys.seal(&alice, b"x"), keys.seal(&alice, b"x"), "a fresh nonce each time");
    }

    #[test]
    fn rotation_reads_with_old_keys_writes_with_the_new_and_keeps_names() {
        let old = ring(&[1]);
        let rotated = ring(&[2, 1]);
        let name = old.name(Kind::Tokens, b"alice");
        assert_eq!(rotated.name(Kind::Tokens, b"alice"), name, "names survive adding a key in front");
        let sealed_old = old.seal(&name, b"v1");
        assert_eq!(rotated.open(&name, &sealed_old).unwrap(), b"v1");
        let sealed_new = rotated.seal(&name, b"v2");
        assert_eq!(old.open(&name, &sealed_new), Err(Unopened::UnknownKey), "written with the new key");
        assert_eq!(ring(&[2]).open(&name, &sealed_new).unwrap(), b"v2");
    }

    #[test]
    fn names_hide_identifiers_and_separate_apps_and_kinds() {
        let keys = ring(&[1]);
        let name = keys.name(Kind::Tokens, b"alice");
        assert!(!name.hex_name().contains(&"alice".bytes().map(|b| format!("{b:02x}")).collect::<String>()));
        assert_ne!(name, keys.name(Kind::Session, b"alice"), "another kind, another key");
        assert_eq!(name.name, keys.name(Kind::RefreshLease, b"alice").name, "one user's entries share a name");
        assert_ne!(name, StoreKeys::new(&[[1; 32]], "other-client").name(Kind::Tokens, b"alice"));
        assert_ne!(name, ring(&[3]).name(Kind::Tokens, b"alice"));
        assert!(!format!("{keys:?}").contains("1, 1"));
    }

    #[test]
    fn notices_open_as_notices_only() {
        let keys = ring(&[1]);
        let notice = keys.seal_notice(b"signed out");
        assert_eq!(keys.open_notice(&notice).unwrap(), b"signed out");
        assert_eq!(keys.open(&keys.name(Kind::Session, b"x"), &notice), Err(Unopened::Tampered));
    }
}
