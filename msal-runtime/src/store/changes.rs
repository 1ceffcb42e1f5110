//! How one instance's writes reach the others' L1: after a write, the tier announces what changed (a sealed
//! notice through the shared store); every other instance's listener forgets its copy, so its next read goes
//! to the shared store. When notices may have been lost, listeners forget everything.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::random::random_bytes;
use crate::store::sealing::StoreKeys;
use crate::store::shared::{Kind, MAX_NOTICE_BYTES, Notice, SharedStore};

/// What a listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Another instance changed (or removed) the entry of `identifier`.
    Changed { kind: Kind, identifier: Vec<u8> },
    /// Notices may have been lost: any copy may be stale.
    Lost,
}

const INSTANCE_LEN: usize = 16;

/// The announcer and listener of one instance.
#[derive(Debug, Clone)]
pub(crate) struct Changes {
    store: Arc<dyn SharedStore>,
    keys: Arc<StoreKeys>,
    /// Random per process: an instance skips its own notices.
    instance: [u8; INSTANCE_LEN],
}

impl Changes {
    pub(crate) fn new(store: Arc<dyn SharedStore>, keys: Arc<StoreKeys>) -> Self {
        Self { store, keys, instance: random_bytes() }
    }

    /// Tells the other instances that the entry of `identifier` changed. A notice that cannot be sent is
    /// logged: the write itself succeeded, and the others' copies are corrected by their next miss, by a
    /// refresh (which always reads the shared store), or when they hear that notices were lost.
    pub(crate) async fn announce(&self, kind: Kind, identifier: &[u8]) {
        let mut plain = Vec::with_capacity(INSTANCE_LEN + 1 + identifier.len());
        plain.extend_from_slice(&self.instance);
        plain.push(kind.tag().as_bytes()[0]);
        plain.extend_from_slice(identifier);
        let notice = self.keys.seal_notice(&plain);
        if notice.len() > MAX_NOTICE_BYTES {
            tracing::warn!(kind = ?kind, "an identifier too long to announce; other instances keep their copy");
            return;
        }
        if let Err(error) = self.store.publish(&notice).await {
            tracing::warn!(error = %error, kind = ?kind, "could not announce a change to other instances");
        }
    }

    /// Calls `heard` with every other instance's change, and with [`Heard::Lost`], until it returns `false`.
    pub(crate) fn listen(&self, mut heard: impl FnMut(Heard) -> bool + Send + 'static) {
        let mut notices = self.store.subscribe();
        let (keys, instance) = (Arc::clone(&self.keys), self.instance);
        tokio::spawn(async move {
            loop {
                let event = match notices.recv().await {
                    Ok(Notice::Published(notice)) => match decode(&keys, &instance, &notice) {
                        Some(event) => event,
                        None => continue,
                    },
                    Ok(Notice::Lost) | Err(RecvError::Lagged(_)) => Heard::Lost,
                    Err(RecvError::Closed) => return,
                };
                if !heard(event) {
                    return;
                }
            }
        });
    }
}

/// Another instance's notice; `None` for this instance's own, and for one that does not open (another app's
/// key, or forged: logged).
fn decode(keys: &StoreKeys, instance: &[u8; INSTANCE_LEN], notice: &[u8]) -> Option<Heard> {
    let plain = match keys.open_notice(notice) {
        Ok(plain) => plain,
        Err(error) => {
            tracing::warn!(error = %error, "a notice from the shared store did not open; ignored");
            return None;
        }
    };
    if plain.len() <= INSTANCE_LEN || plain[..INSTANCE_LEN] == instance[..] {
        return None;
    }
    let kind = match plain[INSTANCE_LEN] {
        b't' => Kind::Tokens,
        b's' => Kind::Session,
        _ => return None,
    };
    Some(Heard::Changed { kind, identifier: plain[INSTANCE_LEN + 1..].to_vec() })
}
