//! Each sign-in's code is redeemed once (docs/SECURITY.md §6, §26).
//!
//! The first callback of a sign-in claims it (→ redeeming) under a lock, so no second request can reach the
//! token endpoint with the same code. Duplicates — a double-submitted form, a browser retry, twenty
//! concurrent copies — wait for the first one's outcome and end where it ended. This is the only thing the
//! server keeps of a sign-in, and it keeps it only from the callback on: a sign-in that never comes back costs
//! nothing here (it lives in the browser's cookie, see `transaction`).
//!
//! What is kept is bounded: redemptions in flight by number, finished ones by bytes. Finished ones are kept
//! until their sign-in would have expired anyway, and sign-ins that ended in a session are kept apart from
//! those that did not, so that a flood of bogus callbacks cannot push out a real user's outcome while
//! duplicates of their callback may still arrive.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::clock::unix_now;

/// How a finished sign-in is weighed and ranked by the store.
pub(crate) trait Finished: Clone + Send + Sync + 'static {
    /// The bytes it takes, approximately (its heap and inline size).
    fn bytes(&self) -> usize;

    /// Whether it ended in a session: such outcomes are kept apart from the others.
    fn signed_in(&self) -> bool;
}

/// The key of a sign-in: the SHA-256 of its `state`, so the store's size per entry is fixed whatever a
/// callback sends as `state`.
pub(crate) type Key = [u8; 32];

pub(crate) fn key(state: &str) -> Key {
    Sha256::digest(state.as_bytes()).into()
}

/// The bytes an entry costs besides its outcome: its key, the table's bookkeeping and a channel.
const ENTRY_OVERHEAD: usize = 160;

/// The result of presenting a sign-in at the callback.
#[derive(Debug)]
pub(crate) enum Claim<O: Finished> {
    /// This request redeems the code; it must report the outcome through the ticket.
    Redeem(Ticket<O>),
    /// The sign-in was claimed already; this is how it ended.
    Duplicate(O),
    /// The sign-in was claimed but its redemption never finished (it crashed, or took longer than a
    /// duplicate waits).
    Interrupted,
    /// Too many sign-ins are being redeemed at this moment; the callback can be retried.
    Busy,
}

enum Entry<O> {
    Redeeming { done: watch::Receiver<Option<O>> },
    Abandoned { expires_at: u64 },
}

/// Finished sign-ins of one kind, least recently finished first out when over their byte budget.
struct FinishedSignIns<O> {
    entries: LruCache<Key, (O, u64)>,
    bytes: usize,
    max_bytes: usize,
}

impl<O: Finished> FinishedSignIns<O> {
    fn new(max_bytes: usize) -> Self {
        Self { entries: LruCache::unbounded(), bytes: 0, max_bytes }
    }

    fn get(&mut self, key: &Key, now: u64) -> Option<O> {
        match self.entries.peek(key) {
            Some((outcome, expires_at)) if *expires_at > now => Some(outcome.clone()),
            Some(_) => {
                self.remove(key);
                None
            }
            None => None,
        }
    }

    fn insert(&mut self, key: Key, outcome: O, expires_at: u64, now: u64) {
        self.remove(&key);
        self.bytes += ENTRY_OVERHEAD + outcome.bytes();
        self.entries.push(key, (outcome, expires_at));
        // Oldest first: those past their sign-in's deadline, then whatever the budget needs.
        while let Some((_, (_, expires_at))) = self.entries.peek_lru() {
            if *expires_at > now && self.bytes <= self.max_bytes {
                break;
            }
            let (_, (outcome, _)) = self.entries.pop_lru().expect("peeked");
            self.bytes -= ENTRY_OVERHEAD + outcome.bytes();
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some((outcome, _)) = self.entries.pop(key) {
            self.bytes -= ENTRY_OVERHEAD + outcome.bytes();
        }
    }
}

struct Inner<O> {
    in_flight: std::collections::HashMap<Key, Entry<O>>,
    signed_in: FinishedSignIns<O>,
    rejected: FinishedSignIns<O>,
}

/// The one-redemption store of an app.
pub(crate) struct RedeemOnce<O> {
    inner: Mutex<Inner<O>>,
    max_in_flight: usize,
    /// How long a duplicate waits for the first request's redemption.
    duplicate_wait: Duration,
}

impl<O> fmt::Debug for RedeemOnce<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedeemOnce").field("max_in_flight", &self.max_in_flight).finish_non_exhaustive()
    }
}

/// Bounds of a [`RedeemOnce`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Redemptions at the same moment; more are answered "busy, retry".
    pub(crate) max_in_flight: usize,
    /// Bytes of finished sign-ins kept; three quarters for those that ended in a session.
    pub(crate) max_bytes: usize,
}

impl<O: Finished> RedeemOnce<O> {
    pub(crate) fn new(bounds: Bounds, duplicate_wait: Duration) -> Arc<Self> {
        let signed_in_bytes = bounds.max_bytes / 4 * 3;
        Arc::new(Self {
            inner: Mutex::new(Inner {
                in_flight: std::collections::HashMap::new(),
                signed_in: FinishedSignIns::new(signed_in_bytes),
                rejected: FinishedSignIns::new(bounds.max_bytes - signed_in_bytes),
            }),
            max_in_flight: bounds.max_in_flight,
            duplicate_wait,
        })
    }

    /// Claims the sign-in of `state`, which stops being accepted at `expires_at` (Unix seconds). At most one
    /// caller ever gets [`Claim::Redeem`] for a state while the store remembers it; duplicates wait for its
    /// outcome.
    pub(crate) async fn claim(self: &Arc<Self>, state: &str, expires_at: u64) -> Claim<O> {
        let key = key(state);
        let mut waiting = {
            let mut inner = self.inner.lock();
            let now = unix_now();
            if let Some(outcome) = inner.signed_in.get(&key, now).or_else(|| inner.rejected.get(&key, now)) {
                return Claim::Duplicate(outcome);
            }
            match inner.in_flight.get(&key) {
                Some(Entry::Redeeming { done, .. }) => done.clone(),
                Some(Entry::Abandoned { expires_at }) if *expires_at > now => return Claim::Interrupted,
                _ => {
                    if inner.in_flight.len() >= self.max_in_flight {
                        inner.in_flight.retain(|_, entry| match entry {
                            Entry::Abandoned { expires_at } => *expires_at > now,
                            Entry::Redeeming { .. } => true,
                        });
                        if inner.in_flight.len() >= self.max_in_flight {
                            return Claim::Busy;
                        }
                    }
                    let (sender, done) = watch::channel(None);
                    inner.in_flight.insert(key, Entry::Redeeming { done });
                    return Claim::Redeem(Ticket { store: Arc::clone(self), key, expires_at, sender: Some(sender) });
                }
            }
        };
        match tokio::time::timeout(self.duplicate_wait, waiting.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => Claim::Duplicate(outcome.clone().expect("waited for Some")),
            _ => Claim::Interrupted,
        }
    }

    /// How a finished sign-in of `state` ended, if the store still remembers it.
    pub(crate) fn finished(&self, state: &str) -> Option<O> {
        let key = key(state);
        let now = unix_now();
        let mut inner = self.inner.lock();
        inner.signed_in.get(&key, now).or_else(|| inner.rejected.get(&key, now))
    }

    /// The bytes the store holds: finished sign-ins and redemptions in flight.
    pub(crate) fn bytes(&self) -> usize {
        let inner = self.inner.lock();
        inner.signed_in.bytes + inner.rejected.bytes + inner.in_flight.len() * ENTRY_OVERHEAD
    }

    fn finish(&self, key: Key, expires_at: u64, outcome: Option<O>) {
        let now = unix_now();
        let mut inner = self.inner.lock();
        match outcome {
            Some(outcome) => {
                inner.in_flight.remove(&key);
                let kind = if outcome.signed_in() { &mut inner.signed_in } else { &mut inner.rejected };
                kind.insert(key, outcome, expires_at, now);
            }
            // A redemption that ended without an outcome may have redeemed the code: its sign-in is never
            // redeemed again; later callbacks hear it was interrupted.
            None => {
                inner.in_flight.insert(key, Entry::Abandoned { expires_at });
            }
        }
    }
}

/// The right and duty to report how a claimed sign-in ended.
pub(crate) struct Ticket<O: Finished> {
    store: Arc<RedeemOnce<O>>,
    key: Key,
    expires_at: u64,
    sender: Option<watch::Sender<Option<O>>>,
}

impl<O: Finished> fmt::Debug for Ticket<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ticket(..)")
    }
}

impl<O: Finished> Ticket<O> {
    /// Gives the claim back without an outcome, as if it had never been made: nothing was redeemed (the
    /// shared store could not be reached), so the browser's retry may claim it again. Waiting duplicates
    /// hear it was interrupted.
    pub(crate) fn release(mut self) {
        self.sender = None;
        self.store.inner.lock().in_flight.remove(&self.key);
    }

    /// Records the outcome for later duplicates and wakes the waiting ones.
    pub(crate) fn complete(mut self, outcome: O) {
        self.store.finish(self.key, self.expires_at, Some(outcome.clone()));
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(outcome));
        }
    }
}

impl<O: Finished> Drop for Ticket<O> {
    /// A redemption that ended without an outcome (a panic): waiting duplicates see the channel close and
    /// answer "interrupted", and so do later ones.
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.store.finish(self.key, self.expires_at, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Finished for &'static str {
        fn bytes(&self) -> usize {
            self.len()
        }

        fn signed_in(&self) -> bool {
            self.starts_with("signed in")
        }
    }

    type Store = Arc<RedeemOnce<&'static str>>;

    fn store(max_in_flight: usize, max_bytes: usize) -> Store {
        RedeemOnce::new(Bounds { max_in_flight, max_bytes }, Duration::from_secs(5))
    }

    fn later() -> u64 {
        unix_now() + 600
    }

    #[tokio::test]
    async fn a_state_is_redeemed_once_and_duplicates_get_its_outcome() {
        let store = store(10, 1 << 20);
        let Claim::Redeem(ticket) = store.claim("s1", later()).await else { panic!("first claim") };
        ticket.complete("signed in");
        assert!(matches!(store.claim("s1", later()).await, Claim::Duplicate("signed in")));
        assert!(matches!(store.claim("s1", later()).await, Claim::Duplicate("signed in")));
        assert_eq!(store.finished("s1"), Some("signed in"));
        assert!(matches!(store.claim("s2", later()).await, Claim::Redeem(_)), "another sign-in is its own");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_claims_yield_exactly_one_redemption() {
        let store = store(10, 1 << 20);
        let expires_at = later();
        let claims: Vec<_> = (0..20)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    match store.claim("s1", expires_at).await {
                        Claim::Redeem(ticket) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            ticket.complete("signed in");
                            "redeemed"
                        }
                        Claim::Duplicate(outcome) => outcome,
                        other => panic!("unexpected {other:?}"),
                    }
                })
            })
            .collect();
        let mut results = Vec::new();
        for claim in claims {
            results.push(claim.await.unwrap());
        }
        assert_eq!(results.iter().filter(|r| **r == "redeemed").count(), 1);
        assert_eq!(results.iter().filter(|r| **r == "signed in").count(), 19);
    }

    #[tokio::test]
    async fn an_abandoned_redemption_interrupts_waiters_and_is_never_redeemed_again() {
        let store = store(10, 1 << 20);
        let Claim::Redeem(ticket) = store.claim("s1", later()).await else { panic!() };
        let waiter = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.claim("s1", later()).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(ticket);
        assert!(matches!(waiter.await.unwrap(), Claim::Interrupted));
        assert!(matches!(store.claim("s1", later()).await, Claim::Interrupted));
    }

    #[tokio::test]
    async fn redemptions_in_flight_are_bounded_and_the_excess_is_asked_to_retry() {
        let store = store(2, 1 << 20);
        let Claim::Redeem(first) = store.claim("s1", later()).await else { panic!() };
        let Claim::Redeem(_second) = store.claim("s2", later()).await else { panic!() };
        assert!(matches!(store.claim("s3", later()).await, Claim::Busy));
        first.complete("signed in");
        assert!(matches!(store.claim("s3", later()).await, Claim::Redeem(_)), "room again");
    }

    #[tokio::test]
    async fn a_flood_of_rejected_sign_ins_cannot_push_out_a_signed_in_one() {
        let store = store(10, 64 * 1024);
        let Claim::Redeem(ticket) = store.claim("real-user", later()).await else { panic!() };
        ticket.complete("signed in");
        for i in 0..10_000 {
            let state = format!("bogus-{i}");
            let Claim::Redeem(ticket) = store.claim(&state, later()).await else { panic!() };
            ticket.complete("rejected: invalid_grant");
        }
        assert_eq!(store.finished("real-user"), Some("signed in"));
        assert!(store.bytes() <= 64 * 1024, "{} bytes", store.bytes());
        assert_eq!(store.finished("bogus-0"), None, "the oldest rejected ones went");
        assert_eq!(store.finished("bogus-9999"), Some("rejected: invalid_grant"));
    }

    #[tokio::test]
    async fn finished_sign_ins_are_forgotten_at_their_deadline() {
        let store = store(10, 1 << 20);
        let Claim::Redeem(ticket) = store.claim("s1", unix_now()).await else { panic!() };
        ticket.complete("signed in");
        assert_eq!(store.finished("s1"), None);
        assert_eq!(store.bytes(), 0);
    }
}
