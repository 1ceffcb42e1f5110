//! Not hammering the provider (docs/SECURITY.md §24, MSAL's throttling):
//! after a `Retry-After` the same request fails fast until that time has passed (capped), and after
//! "interaction required" the same request with the same refresh token fails fast for a while, since asking
//! again cannot succeed until the user has interacted, which brings a new refresh token.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::acquire::error::AcquireError;
use crate::provider::account::HomeAccountId;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// The longest `Retry-After` honoured; a provider asking for more is asked again after this.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How long an "interaction required" answer is remembered for the same refresh token (MSAL's UI throttle).
const INTERACTION_MEMORY: Duration = Duration::from_secs(120);

/// How long an early refresh that failed for a reason the other entries do not remember (a 5xx without
/// `Retry-After`, a refused connection, a malformed answer) is not started again. The token it would have
/// replaced still serves; a request inside the 5-minute buffer refreshes in the foreground regardless.
const EARLY_REFRESH_PAUSE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    account: HomeAccountId,
    scopes: ScopeSet,
}

#[derive(Debug, Clone)]
enum Entry {
    ProviderBusy {
        until: Instant,
    },
    InteractionRequired {
        until: Instant,
        refresh_token: [u8; 32],
        error: AcquireError,
    },
    /// Holds back early refreshes only: requests that need a token refresh in the foreground.
    EarlyRefreshFailed {
        until: Instant,
    },
}

impl Entry {
    fn until(&self) -> Instant {
        match self {
            Entry::ProviderBusy { until }
            | Entry::InteractionRequired { until, .. }
            | Entry::EarlyRefreshFailed { until } => *until,
        }
    }
}

/// Remembered failures, bounded.
pub(crate) struct Throttle {
    entries: Mutex<LruCache<Key, Entry>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

fn fingerprint(refresh_token: &Secret) -> [u8; 32] {
    Sha256::digest(refresh_token.expose().as_bytes()).into()
}

impl Throttle {
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        Self { entries: Mutex::new(LruCache::new(capacity)) }
    }

    /// The remembered failure that still applies to this request, if any.
    pub(crate) fn check(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
        refresh_token: &Secret,
    ) -> Result<(), AcquireError> {
        let key = Key { account: account.clone(), scopes: scopes.clone() };
        let mut entries = self.entries.lock();
        let now = Instant::now();
        let outcome = match entries.get(&key) {
            None => return Ok(()),
            Some(Entry::ProviderBusy { until }) if *until > now => {
                Err(AcquireError::ProviderUnavailable { retry_after: Some(*until - now) })
            }
            Some(Entry::InteractionRequired { until, refresh_token: remembered, error })
                if *until > now && *remembered == fingerprint(refresh_token) =>
            {
                Err(error.clone())
            }
            Some(_) => Ok(()),
        };
        if outcome.is_ok() {
            entries.pop(&key);
        }
        outcome
    }

    /// Remembers a failure that further identical requests must not repeat.
    pub(crate) fn remember(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
        refresh_token: &Secret,
        error: &AcquireError,
    ) {
        let now = Instant::now();
        let entry = match error {
            AcquireError::ProviderUnavailable { retry_after: Some(wait) } => {
                Entry::ProviderBusy { until: now + (*wait).min(MAX_RETRY_AFTER) }
            }
            AcquireError::InteractionRequired(_) => Entry::InteractionRequired {
                until: now + INTERACTION_MEMORY,
                refresh_token: fingerprint(refresh_token),
                error: error.clone(),
            },
            _ => return,
        };
        self.entries.lock().push(Key { account: account.clone(), scopes: scopes.clone() }, entry);
    }

    /// Whether an early refresh for this request should wait: any failure remembered for it still applies.
    /// Whether it would apply to the current refresh token is not asked: the token an early refresh would
    /// replace still serves, so waiting costs nothing.
    pub(crate) fn holds_back_early_refresh(&self, account: &HomeAccountId, scopes: &ScopeSet) -> bool {
        let key = Key { account: account.clone(), scopes: scopes.clone() };
        self.entries.lock().peek(&key).is_some_and(|entry| entry.until() > Instant::now())
    }

    /// Remembers that an early refresh failed, unless a failure remembered by [`remember`](Self::remember)
    /// already holds further ones back.
    pub(crate) fn remember_failed_early_refresh(&self, account: &HomeAccountId, scopes: &ScopeSet) {
        let key = Key { account: account.clone(), scopes: scopes.clone() };
        let now = Instant::now();
        let mut entries = self.entries.lock();
        if entries.peek(&key).is_none_or(|entry| entry.until() <= now) {
            entries.push(key, Entry::EarlyRefreshFailed { until: now + EARLY_REFRESH_PAUSE });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::error::InteractionReason;

    fn throttle() -> Throttle {
        Throttle::new(NonZeroUsize::new(10).unwrap())
    }

    fn alice() -> HomeAccountId {
        HomeAccountId::new("alice")
    }

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    #[test]
    fn retry_after_fails_identical_requests_fast() {
        let throttle = throttle();
        let rt = Secret::new("rt");
        let busy = AcquireError::ProviderUnavailable { retry_after: Some(Duration::from_secs(30)) };
        throttle.remember(&alice(), &scopes("Mail.Read"), &rt, &busy);
        assert!(matches!(
            throttle.check(&alice(), &scopes("mail.read"), &rt),
            Err(AcquireError::ProviderUnavailable { retry_after: Some(d) }) if d <= Duration::from_secs(30)
        ));
        assert!(throttle.check(&alice(), &scopes("Mail.Send"), &rt).is_ok(), "other scopes are not throttled");
        assert!(throttle.check(&HomeAccountId::new("bob"), &scopes("Mail.Read"), &rt).is_ok());
    }

    #[test]
    fn an_expired_retry_after_is_forgotten() {
        let throttle = throttle();
        let rt = Secret::new("rt");
        throttle.remember(
            &alice(),
            &scopes("a"),
            &rt,
            &AcquireError::ProviderUnavailable { retry_after: Some(Duration::ZERO) },
        );
        assert!(throttle.check(&alice(), &scopes("a"), &rt).is_ok());
    }

    #[test]
    fn interaction_required_is_remembered_until_the_refresh_token_changes() {
        let throttle = throttle();
        let old = Secret::new("old-rt");
        let consent = AcquireError::interaction(InteractionReason::ConsentRequired);
        throttle.remember(&alice(), &scopes("Mail.Send"), &old, &consent);
        assert!(matches!(
            throttle.check(&alice(), &scopes("Mail.Send"), &old),
            Err(AcquireError::InteractionRequired(_))
        ));
        // After consent the user has a new refresh token: ask again.
        assert!(throttle.check(&alice(), &scopes("Mail.Send"), &Secret::new("new-rt")).is_ok());
    }

    #[test]
    fn other_failures_are_not_remembered() {
        let throttle = throttle();
        let rt = Secret::new("rt");
        throttle.remember(&alice(), &scopes("a"), &rt, &AcquireError::ProviderUnavailable { retry_after: None });
        assert!(throttle.check(&alice(), &scopes("a"), &rt).is_ok());
    }

    #[test]
    fn a_failed_early_refresh_holds_back_early_refreshes_only() {
        let throttle = throttle();
        let (rt, mail) = (Secret::new("rt"), scopes("Mail.Read"));
        assert!(!throttle.holds_back_early_refresh(&alice(), &mail));
        throttle.remember_failed_early_refresh(&alice(), &mail);
        assert!(throttle.holds_back_early_refresh(&alice(), &mail));
        assert!(!throttle.holds_back_early_refresh(&alice(), &scopes("Mail.Send")), "another request");
        assert!(throttle.check(&alice(), &mail, &rt).is_ok(), "a refresh in the foreground still goes ahead");
    }

    #[test]
    fn every_remembered_failure_holds_back_early_refreshes_and_is_not_replaced_by_a_shorter_pause() {
        let throttle = throttle();
        let (rt, mail) = (Secret::new("rt"), scopes("Mail.Read"));
        let busy = AcquireError::ProviderUnavailable { retry_after: Some(Duration::from_secs(200)) };
        throttle.remember(&alice(), &mail, &rt, &busy);
        throttle.remember_failed_early_refresh(&alice(), &mail);
        assert!(throttle.holds_back_early_refresh(&alice(), &mail));
        assert!(throttle.check(&alice(), &mail, &rt).is_err(), "Retry-After still applies to everyone");
    }
}
