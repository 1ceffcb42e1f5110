//! Silent token acquisition: MSAL's `AcquireTokenSilent`.
//!
//! A cached access token serves when its scopes cover the request and it stays valid for more than 5 minutes.
//! Past its `refresh_on` it still serves at once, and one refresh runs in the background (MSAL.NET's
//! proactive refresh): no request waits for the provider while a valid token is in hand, and a failed
//! background refresh leaves the token in service. Otherwise the refresh token buys one (see `refresh`, which
//! also coalesces and throttles).

use std::sync::Arc;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, InteractionReason};
use crate::acquire::refresh::Refresher;
use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::partition::EXPIRY_BUFFER_SECS;
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;
use crate::scope::set::{Scope, ScopeSet};
use crate::telemetry;

/// Silent acquisition for one app: the cache, and the refresher for when the cache does not serve.
#[derive(Debug)]
pub(crate) struct Acquisition {
    client_id: String,
    cache: TokenCache,
    refresher: Arc<Refresher>,
}

impl Acquisition {
    pub(crate) fn new(client_id: String, cache: TokenCache, refresher: Arc<Refresher>) -> Self {
        Self { client_id, cache, refresher }
    }

    /// An access token of `account` for `scopes`, from the cache or by refreshing, without user interaction;
    /// `openid`, `profile` and `offline_access` are ignored.
    pub(crate) async fn acquire_token_silent(
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
        match self.cache.find_hot(account, request.as_ref(), now, EXPIRY_BUFFER_SECS) {
            None => Err(AcquireError::interaction(InteractionReason::NoCachedTokens)),
            Some(HotLookup::Hit(token)) => {
                telemetry::cache_lookup("l1", true);
                if token.due_for_refresh(now) {
                    self.refresher.refresh_in_background(account, scopes);
                }
                Ok(AccessToken::new(token.secret, token.expires_on))
            }
            // No token serves: a refresh for this request in flight can be joined without a load.
            // Boxed, here and below: the slow path's future is large, and a cache hit should not move it.
            Some(HotLookup::Miss) => {
                telemetry::cache_lookup("l1", false);
                Box::pin(self.acquire_with_refresh(account, scopes, true)).await
            }
            // Only the full rules can tell: a token they find serves, whatever refresh is in flight.
            Some(HotLookup::Unknown) => {
                telemetry::cache_lookup("l1", false);
                Box::pin(self.acquire_with_refresh(account, scopes, false)).await
            }
        }
    }

    /// Beyond a cache hit of the summary: the full rules, the refresh, and the fallback when the provider fails.
    /// `no_token_serves`: the summary said so, so a refresh for this very request in flight (a storm) is joined
    /// before loading: its token is what loading would come to. Otherwise (the summary could not tell) the
    /// partition is loaded first, so that a token that serves is never kept waiting for a refresh.
    async fn acquire_with_refresh(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
        no_token_serves: bool,
    ) -> Result<AccessToken, AcquireError> {
        let client_id = &self.client_id;
        let joinable = if no_token_serves { self.refresher.joinable(account, scopes) } else { None };
        let (refreshed, loaded) = match joinable {
            Some(in_flight) => {
                telemetry::refresh_joined();
                (in_flight.await, None)
            }
            None => {
                let now = unix_now();
                let Some(stored) = self.cache.load(account).await.map_err(AcquireError::cache)? else {
                    return Err(AcquireError::interaction(InteractionReason::NoCachedTokens));
                };
                let partition = &stored.partition;
                let found = partition.find_access_token(client_id, scopes, now, EXPIRY_BUFFER_SECS);
                telemetry::cache_lookup("store", found.is_some());
                if let Some(entry) = found {
                    if entry.due_for_refresh(now) {
                        self.refresher.refresh_in_background(account, scopes);
                    }
                    return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
                }
                (self.refresher.refresh_coalesced(account, scopes).await, Some(stored.partition))
            }
        };
        let error = match refreshed {
            Ok(token) => return Ok(token),
            Err(error @ AcquireError::ProviderUnavailable { .. }) => error,
            Err(error) => return Err(error),
        };
        // During an outage a token inside the 5-minute buffer is better than no token.
        let partition = match loaded {
            Some(partition) => Some(partition),
            None => self.cache.load(account).await.ok().flatten().map(|stored| stored.partition),
        };
        if let Some(entry) = partition.as_deref().and_then(|p| p.find_access_token(client_id, scopes, unix_now(), 0)) {
            tracing::warn!(home_account_id = ?account, "the identity provider is unavailable; serving a token close to expiry");
            return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
        }
        Err(error)
    }
}
