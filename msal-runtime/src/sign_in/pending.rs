//! Sign-ins that were started and have not come back yet, keyed by `state` (docs/SECURITY.md §2, §6).
//!
//! Each is bound to the browser that started it and is claimed exactly once: the first callback request takes
//! it (pending → redeeming) under a lock, so no second request can reach the token endpoint with the same
//! code. Duplicates — a replayed URL, a double-submitted form, a browser retry, twenty concurrent copies —
//! wait for the first one's outcome and end where it ended. Several tabs of one browser may sign in at once;
//! their number per browser is capped, the oldest dropped first.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::config::settings::ResponseMode;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::sign_in::pkce::PkceVerifier;
use crate::sign_in::return_url::ReturnUrl;

/// The browser a sign-in belongs to: SHA-256 of the random id in its sign-in cookie.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BrowserBinding([u8; 32]);

impl BrowserBinding {
    pub(crate) fn of(browser_id: &str) -> Self {
        Self(Sha256::digest(browser_id.as_bytes()).into())
    }
}

impl fmt::Debug for BrowserBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrowserBinding(..)")
    }
}

/// What the callback needs to finish a sign-in.
#[derive(Debug)]
pub(crate) struct PendingSignIn {
    pub(crate) browser: BrowserBinding,
    pub(crate) nonce: Secret,
    pub(crate) verifier: PkceVerifier,
    pub(crate) return_url: ReturnUrl,
    pub(crate) response_mode: ResponseMode,
    pub(crate) scopes: ScopeSet,
    /// The scopes a consent or re-authentication was started for (`None`: a plain sign-in).
    pub(crate) interaction: Option<ScopeSet>,
}

enum Entry<O> {
    Pending { sign_in: PendingSignIn, expires: Instant },
    Redeeming { browser: BrowserBinding, done: watch::Receiver<Option<O>>, expires: Instant },
    Done { browser: BrowserBinding, outcome: O, expires: Instant },
}

impl<O> Entry<O> {
    fn expires(&self) -> Instant {
        match self {
            Entry::Pending { expires, .. } | Entry::Redeeming { expires, .. } | Entry::Done { expires, .. } => *expires,
        }
    }

    fn browser(&self) -> BrowserBinding {
        match self {
            Entry::Pending { sign_in, .. } => sign_in.browser,
            Entry::Redeeming { browser, .. } | Entry::Done { browser, .. } => *browser,
        }
    }
}

/// The result of presenting a `state` at the callback.
#[derive(Debug)]
pub(crate) enum Claim<O: Clone + Send + Sync + 'static> {
    /// This request redeems the code; it must report the outcome through the ticket.
    Redeem(PendingSignIn, Ticket<O>),
    /// The sign-in was already claimed; this is how it ended.
    Duplicate(O),
    /// The sign-in was claimed but its redemption never finished (it crashed or is still running).
    Interrupted,
    /// The state belongs to a sign-in started by another browser (or this one lost its cookie).
    WrongBrowser,
    /// No such sign-in: never started, expired, or evicted.
    Unknown,
}

struct Inner<O> {
    entries: LruCache<String, Entry<O>>,
    /// Per browser, its states in the order they were started (may hold states no longer pending).
    by_browser: LruCache<BrowserBinding, VecDeque<String>>,
}

/// The store of pending sign-ins.
pub(crate) struct PendingSignIns<O> {
    inner: Mutex<Inner<O>>,
    lifetime: Duration,
    max_per_browser: usize,
    /// How long a duplicate waits for the first request's redemption.
    duplicate_wait: Duration,
}

impl<O> fmt::Debug for PendingSignIns<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIns").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl<O: Clone + Send + Sync + 'static> PendingSignIns<O> {
    pub(crate) fn new(
        max: NonZeroUsize,
        max_per_browser: NonZeroUsize,
        lifetime: Duration,
        duplicate_wait: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner { entries: LruCache::new(max), by_browser: LruCache::new(max) }),
            lifetime,
            max_per_browser: max_per_browser.get(),
            duplicate_wait,
        })
    }

    /// Records a started sign-in under its `state`, dropping the browser's oldest pending one beyond the cap.
    pub(crate) fn insert(&self, state: String, sign_in: PendingSignIn) {
        let browser = sign_in.browser;
        let mut inner = self.inner.lock();
        let Inner { entries, by_browser } = &mut *inner;
        let states = by_browser.get_or_insert_mut(browser, VecDeque::new);
        states.retain(|s| matches!(entries.peek(s), Some(Entry::Pending { .. })));
        while states.len() >= self.max_per_browser {
            if let Some(oldest) = states.pop_front() {
                entries.pop(&oldest);
            }
        }
        states.push_back(state.clone());
        entries.push(state, Entry::Pending { sign_in, expires: Instant::now() + self.lifetime });
    }

    /// Claims the sign-in of `state` for the browser presenting it. At most one caller ever gets
    /// [`Claim::Redeem`] for a state; duplicates wait for its outcome.
    pub(crate) async fn claim(self: &Arc<Self>, state: &str, browser: Option<BrowserBinding>) -> Claim<O> {
        let mut waiting = {
            let mut inner = self.inner.lock();
            let now = Instant::now();
            let Some(entry) = inner.entries.peek(state) else { return Claim::Unknown };
            if entry.expires() <= now {
                inner.entries.pop(state);
                return Claim::Unknown;
            }
            // The binding is checked before anything changes: a request from another browser must not burn
            // the real user's sign-in.
            if browser != Some(entry.browser()) {
                return Claim::WrongBrowser;
            }
            match inner.entries.pop(state).expect("peeked above") {
                Entry::Pending { sign_in, .. } => {
                    let (sender, done) = watch::channel(None);
                    let expires = now + self.lifetime;
                    inner.entries.push(state.to_owned(), Entry::Redeeming { browser: sign_in.browser, done, expires });
                    let ticket = Ticket { store: Arc::clone(self), state: state.to_owned(), sender: Some(sender) };
                    return Claim::Redeem(sign_in, ticket);
                }
                Entry::Done { browser, outcome, expires } => {
                    inner.entries.push(state.to_owned(), Entry::Done { browser, outcome: outcome.clone(), expires });
                    return Claim::Duplicate(outcome);
                }
                Entry::Redeeming { browser, done, expires } => {
                    let waiting = done.clone();
                    inner.entries.push(state.to_owned(), Entry::Redeeming { browser, done, expires });
                    waiting
                }
            }
        };
        match tokio::time::timeout(self.duplicate_wait, waiting.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => Claim::Duplicate(outcome.clone().expect("waited for Some")),
            _ => Claim::Interrupted,
        }
    }

    fn finish(&self, state: &str, outcome: Option<O>) {
        let mut inner = self.inner.lock();
        let Some(Entry::Redeeming { browser, .. }) = inner.entries.peek(state) else { return };
        let browser = *browser;
        match outcome {
            Some(outcome) => {
                let expires = Instant::now() + self.lifetime;
                inner.entries.push(state.to_owned(), Entry::Done { browser, outcome, expires });
            }
            None => {
                inner.entries.pop(state);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }
}

/// The right and duty to report how a claimed sign-in ended.
pub(crate) struct Ticket<O: Clone + Send + Sync + 'static> {
    store: Arc<PendingSignIns<O>>,
    state: String,
    sender: Option<watch::Sender<Option<O>>>,
}

impl<O: Clone + Send + Sync + 'static> fmt::Debug for Ticket<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ticket(..)")
    }
}

impl<O: Clone + Send + Sync + 'static> Ticket<O> {
    /// Records the outcome for later duplicates and wakes the waiting ones.
    pub(crate) fn complete(mut self, outcome: O) {
        self.store.finish(&self.state, Some(outcome.clone()));
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(outcome));
        }
    }
}

impl<O: Clone + Send + Sync + 'static> Drop for Ticket<O> {
    /// A redemption that ended without an outcome (a panic) leaves no entry to wait on: waiting duplicates
    /// see the channel close and answer "interrupted"; later ones find the state unknown.
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.store.finish(&self.state, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Store = Arc<PendingSignIns<&'static str>>;

    fn store(max_per_browser: usize) -> Store {
        PendingSignIns::new(
            NonZeroUsize::new(100).unwrap(),
            NonZeroUsize::new(max_per_browser).unwrap(),
            Duration::from_secs(600),
            Duration::from_secs(5),
        )
    }

    fn sign_in(browser: &str, return_url: &str) -> PendingSignIn {
        PendingSignIn {
            browser: BrowserBinding::of(browser),
            nonce: Secret::new("nonce"),
            verifier: PkceVerifier::generate(),
            return_url: ReturnUrl::parse(return_url).unwrap(),
            response_mode: ResponseMode::Query,
            scopes: ScopeSet::new(),
            interaction: None,
        }
    }

    fn browser(id: &str) -> Option<BrowserBinding> {
        Some(BrowserBinding::of(id))
    }

    #[tokio::test]
    async fn a_state_is_redeemed_once_and_duplicates_get_its_outcome() {
        let store = store(10);
        store.insert("s1".into(), sign_in("b1", "/a"));
        let Claim::Redeem(pending, ticket) = store.claim("s1", browser("b1")).await else { panic!("first claim") };
        assert_eq!(pending.return_url.as_str(), "/a");
        ticket.complete("signed in");
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Duplicate("signed in")));
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Duplicate("signed in")));
    }

    #[tokio::test]
    async fn another_browser_cannot_claim_or_burn_a_sign_in() {
        let store = store(10);
        store.insert("s1".into(), sign_in("b1", "/a"));
        assert!(matches!(store.claim("s1", browser("attacker")).await, Claim::WrongBrowser));
        assert!(matches!(store.claim("s1", None).await, Claim::WrongBrowser));
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Redeem(..)));
        assert!(matches!(store.claim("nope", browser("b1")).await, Claim::Unknown));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_claims_yield_exactly_one_redemption() {
        let store = store(10);
        store.insert("s1".into(), sign_in("b1", "/a"));
        let claims: Vec<_> = (0..20)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    match store.claim("s1", browser("b1")).await {
                        Claim::Redeem(_, ticket) => {
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
    async fn an_abandoned_redemption_interrupts_waiters_and_is_forgotten() {
        let store = store(10);
        store.insert("s1".into(), sign_in("b1", "/a"));
        let Claim::Redeem(_, ticket) = store.claim("s1", browser("b1")).await else { panic!() };
        let waiter = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.claim("s1", browser("b1")).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(ticket);
        assert!(matches!(waiter.await.unwrap(), Claim::Interrupted));
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Unknown));
    }

    #[tokio::test]
    async fn each_browser_keeps_its_newest_sign_ins_up_to_the_cap() {
        let store = store(2);
        store.insert("s1".into(), sign_in("b1", "/1"));
        store.insert("s2".into(), sign_in("b1", "/2"));
        store.insert("other".into(), sign_in("b2", "/x"));
        store.insert("s3".into(), sign_in("b1", "/3"));
        assert_eq!(store.len(), 3);
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Unknown), "oldest dropped");
        assert!(matches!(store.claim("s2", browser("b1")).await, Claim::Redeem(..)));
        assert!(matches!(store.claim("s3", browser("b1")).await, Claim::Redeem(..)));
        assert!(matches!(store.claim("other", browser("b2")).await, Claim::Redeem(..)), "other browsers unaffected");
    }

    #[tokio::test]
    async fn expired_sign_ins_are_unknown() {
        let store = PendingSignIns::<&str>::new(
            NonZeroUsize::new(10).unwrap(),
            NonZeroUsize::new(10).unwrap(),
            Duration::ZERO,
            Duration::from_secs(1),
        );
        store.insert("s1".into(), sign_in("b1", "/a"));
        assert!(matches!(store.claim("s1", browser("b1")).await, Claim::Unknown));
    }
}
