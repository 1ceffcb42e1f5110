//! How one instance's writes reach the others' L1: after a write, the tier announces what changed (a sealed
//! notice through the shared store); every other instance's listener forgets its copy, so its next read goes
//! to the shared store. When notices may have been lost, listeners forget everything, but only once the store
//! answers again: while it is down, what the L1 holds is all there is, and serving it is the point of an L1
//! (an outage must not sign everyone out); as soon as the store is back, copies that may have missed a change
//! go, and the next read of each fetches the current one.

use std::sync::{Arc, Weak};

use tokio::sync::broadcast::error::RecvError;

use crate::random::random_bytes;
use crate::store::sealing::StoreKeys;
use crate::store::shared::{Kind, MAX_NOTICE_BYTES, Notice, SharedStore, StoreKey};

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

    /// Calls `heard` with every other instance's change, and with [`Heard::Lost`] once the store answers
    /// after notices may have been lost, until it returns `false`.
    pub(crate) fn listen(&self, mut heard: impl FnMut(Heard) -> bool + Send + 'static) {
        let mut notices = self.store.subscribe();
        let (keys, instance) = (Arc::clone(&self.keys), self.instance);
        let store = Arc::downgrade(&self.store);
        tokio::spawn(async move {
            loop {
                let event = match notices.recv().await {
                    Ok(Notice::Published(notice)) => match decode(&keys, &instance, &notice) {
                        Some(event) => event,
                        None => continue,
                    },
                    Ok(Notice::Lost) | Err(RecvError::Lagged(_)) => {
                        if !answers_again(&store).await {
                            return;
                        }
                        Heard::Lost
                    }
                    Err(RecvError::Closed) => return,
                };
                if !heard(event) {
                    return;
                }
            }
        });
    }
}

/// Waits until the store answers a read; `false` when the store is gone (the app is shutting down).
async fn answers_again(store: &Weak<dyn SharedStore>) -> bool {
    let probe = StoreKey { kind: Kind::Tokens, name: [0; 32] };
    loop {
        let Some(store) = store.upgrade() else { return false };
        if store.get(&probe).await.is_ok() {
            return true;
        }
        drop(store);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// How often a listener that lost notices checks whether the store is back.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

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
