//! Silent token acquisition: MSAL's `AcquireTokenSilent`, with coalescing and throttling.
//!
//! A cached access token serves when its scopes cover the request and it stays valid for more than 5 minutes;
//! past its `refresh_on` it is refreshed early but still serves if that refresh fails. Otherwise the refresh
//! token buys one. Identical concurrent acquisitions share one provider request, and refreshes of one user
//! never overlap (with rotating refresh tokens a second refresh would use a revoked token, and the provider
//! would revoke the grant).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Weak};

use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, InteractionReason};
use crate::acquire::throttle::Throttle;
use crate::cache::partition::EXPIRY_BUFFER_SECS;
use crate::cache::{HotLookup, ScopeIds};
use crate::clock::unix_now;
use crate::msal::Msal;
use crate::provider::account::HomeAccountId;
use crate::scope::set::{Scope, ScopeSet};

type InFlight = Shared<BoxFuture<'static, Result<AccessToken, AcquireError>>>;

/// The acquisition state of one app: requests in flight, per-user refresh locks, remembered failures.
pub(crate) struct Acquisition {
    pub(super) in_flight: Mutex<HashMap<(HomeAccountId, ScopeSet), InFlight>>,
    user_locks: Mutex<HashMap<HomeAccountId, Weak<tokio::sync::Mutex<()>>>>,
    pub(super) throttle: Throttle,
}

impl std::fmt::Debug for Acquisition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquisition").finish_non_exhaustive()
    }
}

impl Acquisition {
    pub(crate) fn new(max_users: NonZeroUsize) -> Self {
        Self { in_flight: Mutex::default(), user_locks: Mutex::default(), throttle: Throttle::new(max_users) }
    }

    /// The refresh lock of `account`, shared by everyone refreshing for that user right now.
    pub(super) fn user_lock(&self, account: &HomeAccountId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.user_locks.lock();
        if let Some(lock) = locks.get(account).and_then(Weak::upgrade) {
            return lock;
        }
        // Forget users nobody is refreshing for, so the map stays as small as the current load.
        if locks.len() >= 1024 && locks.len().is_power_of_two() {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(account.clone(), Arc::downgrade(&lock));
        lock
    }
}

impl Msal {
    /// An access token of `account` for `scopes`, from the cache or by refreshing, without user interaction
    /// (MSAL's `AcquireTokenSilent`). `openid`, `profile` and `offline_access` are ignored.
    ///
    /// Handlers usually get their token from the [`AccessTokenFor`](crate::AccessTokenFor) extractor instead,
    /// which also turns [`AcquireError::InteractionRequired`] into a consent or sign-in response.
    pub async fn acquire_token_silent(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, AcquireError> {
        if scopes.iter().any(Scope::is_reserved) {
            self.acquire(account, &scopes.without_reserved()).await
        } else {
            self.acquire(account, scopes).await
        }
    }

    /// [`acquire_token_silent`](Self::acquire_token_silent) for scopes already without the reserved ones.
    pub(crate) async fn acquire(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, AcquireError> {
        let request = ScopeIds::of_request(scopes);
        let now = unix_now();
        match self.inner.cache.find_hot(account, request.as_ref(), now, EXPIRY_BUFFER_SECS) {
            None => return Err(AcquireError::interaction(InteractionReason::NoCachedTokens)),
            Some(HotLookup::Hit(token)) if !token.due_for_refresh(now) => {
                return Ok(AccessToken::new(token.secret, token.expires_on));
            }
            // A token past `refresh_on`, or none: the full rules below decide, with the refresh.
            Some(_) => {}
        }
        self.acquire_with_refresh(account, scopes).await
    }

    /// Beyond a plain cache hit: early refresh, refresh, and the fallbacks when the provider fails.
    async fn acquire_with_refresh(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, AcquireError> {
        let client_id = &self.inner.config.client_id;
        let now = unix_now();
        let Some(stored) = self.inner.cache.load(account).await.map_err(AcquireError::cache)? else {
            return Err(AcquireError::interaction(InteractionReason::NoCachedTokens));
        };
        let cached = stored.partition.find_access_token(client_id, scopes, now, EXPIRY_BUFFER_SECS);
        if let Some(entry) = cached
            && entry.refresh_on.is_none_or(|refresh_on| now < refresh_on)
        {
            return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
        }
        // Past `refresh_on` the token is refreshed early, but it still serves if that refresh fails.
        let early = cached.map(|entry| AccessToken::new(entry.secret.clone(), entry.expires_on));
        let partition = Arc::clone(&stored.partition);
        match self.refresh_coalesced(account, scopes).await {
            Ok(token) => Ok(token),
            Err(error) => {
                if let Some(token) = early {
                    tracing::warn!(%error, home_account_id = %account, "early refresh failed; the cached token still serves");
                    return Ok(token);
                }
                // During an outage a token inside the 5-minute buffer is better than no token.
                if let AcquireError::ProviderUnavailable { .. } = error
                    && let Some(entry) = partition.find_access_token(client_id, scopes, unix_now(), 0)
                {
                    tracing::warn!(home_account_id = %account, "the identity provider is unavailable; serving a token close to expiry");
                    return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
                }
                Err(error)
            }
        }
    }
}
