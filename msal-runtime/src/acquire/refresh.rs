//! Where a token is refreshed: the refresh token buys a new access token (RFC 6749 §6), coalesced per user and
//! scope set, serialised per user, retried once, and written back atomically with the rotated refresh token.
//!
//! Identical concurrent acquisitions share one provider request, and refreshes of one user never overlap:
//! with rotating refresh tokens a second refresh would present a revoked token, and the provider would revoke
//! the whole grant.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, InteractionReason, InvalidResponse, classify};
use crate::acquire::in_flight::{InFlight, Purchases, with_one_retry};
use crate::acquire::lease::RefreshLeases;
use crate::acquire::throttle::Throttle;
use crate::cache::partition::{EXPIRY_BUFFER_SECS, access_token_lifetime};
use crate::cache::partition::{GrantType, Issued};
use crate::cache::schema::AccountEntry;
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;
use crate::provider::id_token::{Expect, IdTokenError};
use crate::provider::token_endpoint::{TokenError, TokenResponse};
use crate::provider::trust::Provider;
use crate::scope::set::{Scope, ScopeSet};
use crate::secret::Secret;

/// Refreshes tokens for one app: the provider, the cache written back to, refreshes in flight, per-user
/// refresh locks, and remembered failures.
pub(crate) struct Refresher {
    client_id: String,
    provider: Arc<Provider>,
    cache: TokenCache,
    in_flight: Purchases,
    user_locks: Mutex<HashMap<HomeAccountId, Weak<tokio::sync::Mutex<()>>>>,
    /// With a shared store: the per-user lease that serialises refreshes across instances (see `lease`).
    leases: Option<RefreshLeases>,
    throttle: Throttle,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl Refresher {
    /// Remembers failures of at most `max_users` users.
    pub(crate) fn new(
        client_id: String,
        provider: Arc<Provider>,
        cache: TokenCache,
        max_users: NonZeroUsize,
        leases: Option<RefreshLeases>,
    ) -> Self {
        Self {
            client_id,
            provider,
            cache,
            in_flight: Purchases::default(),
            user_locks: Mutex::default(),
            leases,
            throttle: Throttle::new(max_users),
        }
    }

    /// The refresh lock of `account`, shared by everyone refreshing for that user right now.
    fn user_lock(&self, account: &HomeAccountId) -> Arc<tokio::sync::Mutex<()>> {
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

    /// Joins the refresh in flight for this user and scope set, or starts one, and waits for it.
    pub(crate) async fn refresh_coalesced(
        self: &Arc<Self>,
        account: &HomeAccountId,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, AcquireError> {
        self.in_flight(account, scopes, false).await
    }

    /// The refresh in flight for this user and scope set, if there is one, to join.
    pub(crate) fn joinable(&self, account: &HomeAccountId, scopes: &ScopeSet) -> Option<InFlight> {
        self.in_flight.joinable(account, scopes)
    }

    /// Joins the refresh in flight for this user and scope set, or starts one, without waiting: the early
    /// refresh of a token that still serves. A failure leaves the cached token as it is and is remembered by
    /// the throttle, so that the provider is not asked again at every request.
    pub(crate) fn refresh_in_background(self: &Arc<Self>, account: &HomeAccountId, scopes: &ScopeSet) {
        if !self.throttle.holds_back_early_refresh(account, scopes) {
            drop(self.in_flight(account, scopes, true));
        }
    }

    /// The refresh in flight for this user and scope set; a new one is started when there is none (`early`:
    /// by an early refresh, whose failure holds back the next ones).
    fn in_flight(self: &Arc<Self>, account: &HomeAccountId, scopes: &ScopeSet, early: bool) -> InFlight {
        let span = tracing::info_span!("refresh", early, outcome = tracing::field::Empty);
        self.in_flight.join_or_start(account, scopes, span, || {
            let (refresher, account, scopes) = (Arc::clone(self), account.clone(), scopes.clone());
            async move {
                let outcome = refresher.refresh(&account, &scopes).await;
                if early && outcome.is_err() {
                    refresher.throttle.remember_failed_early_refresh(&account, &scopes);
                }
                outcome
            }
        })
    }

    /// One refresh for `account`, under the user's lock.
    async fn refresh(&self, account: &HomeAccountId, scopes: &ScopeSet) -> Result<AccessToken, AcquireError> {
        let client_id = &self.client_id;
        let lock = self.user_lock(account);
        let _refreshing = lock.lock().await;
        let _lease = match &self.leases {
            Some(leases) => Some(leases.acquire(account).await.map_err(AcquireError::cache)?),
            None => None,
        };

        let stored = self
            .cache
            .load(account)
            .await
            .map_err(AcquireError::cache)?
            .ok_or(AcquireError::interaction(InteractionReason::NoCachedTokens))?;
        // The refresh that held the lock before may have bought this very token.
        let now = unix_now();
        if let Some(entry) = stored.partition.find_access_token(client_id, scopes, now, EXPIRY_BUFFER_SECS)
            && !entry.due_for_refresh(now)
        {
            return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
        }
        let refresh_token = stored
            .partition
            .refresh_token(client_id)
            .map(|entry| entry.secret.clone())
            .ok_or(AcquireError::interaction(InteractionReason::NoRefreshToken))?;
        let cached_account =
            stored.partition.account().cloned().ok_or(AcquireError::interaction(InteractionReason::NoCachedTokens))?;
        drop(stored);

        let throttle = &self.throttle;
        throttle.check(account, scopes, &refresh_token).inspect_err(|_| crate::telemetry::refresh_throttled())?;
        let request_scopes = self.refresh_request_scopes(scopes);
        let tokens = match self.refresh_with_one_retry(&refresh_token, &request_scopes).await {
            Ok(tokens) => tokens,
            Err(error) => {
                let error = classify(error);
                throttle.remember(account, scopes, &refresh_token, &error);
                tracing::info!(error = ?error.to_string(), home_account_id = ?account, scopes = ?scopes, "refresh failed");
                return Err(error);
            }
        };

        let now = unix_now();
        let account_entry = match &tokens.id_token {
            Some(id_token) => self.check_refreshed_id_token(account, id_token, &tokens, &cached_account, now).await?,
            None => cached_account,
        };
        let issued = Issued {
            account: &account_entry,
            client_id,
            requested: &request_scopes,
            grant_type: GrantType::RefreshToken,
            now,
        };
        // Written only if the user still has a partition: a sign-out during the refresh wins.
        self.cache
            .update_existing(account, |partition| partition.record(&issued, &tokens))
            .await
            .map_err(AcquireError::cache)?
            .ok_or(AcquireError::interaction(InteractionReason::NoCachedTokens))?;
        Ok(AccessToken::new(tokens.access_token.clone(), now.saturating_add(access_token_lifetime(&tokens))))
    }

    /// What to ask for when refreshing. Entra (MSAL): the scopes plus `openid profile offline_access`. Other
    /// providers: the scopes plus `openid`, since asking a standard provider for `offline_access` or
    /// `profile` it did not grant is an `invalid_scope` error (RFC 6749 §6).
    fn refresh_request_scopes(&self, scopes: &ScopeSet) -> ScopeSet {
        if self.provider.authority().is_entra() {
            ScopeSet::reserved().union(scopes)
        } else {
            let mut request = scopes.clone();
            request.insert(Scope::new("openid").expect("openid is a scope"));
            request
        }
    }

    /// One retry after a 5xx or 429 (after `Retry-After` when it is short) or a refused connection. A timeout
    /// is not retried: the provider may have rotated the refresh token already, and re-sending the old one
    /// would make it revoke the grant.
    async fn refresh_with_one_retry(
        &self,
        refresh_token: &Secret,
        scopes: &ScopeSet,
    ) -> Result<TokenResponse, TokenError> {
        let endpoint = self.provider.token_endpoint();
        with_one_retry(|| endpoint.refresh(refresh_token, scopes)).await
    }

    /// An ID token from a refresh is validated like one from sign-in, except for the nonce, and must name the
    /// same account (docs/SECURITY.md §14). Its account entry replaces the cached one, keeping how it was first
    /// established.
    async fn check_refreshed_id_token(
        &self,
        account: &HomeAccountId,
        id_token: &Secret,
        tokens: &TokenResponse,
        cached: &AccountEntry,
        now: u64,
    ) -> Result<AccountEntry, AcquireError> {
        let invalid = |error: IdTokenError| AcquireError::InvalidResponse(Arc::new(InvalidResponse::IdToken(error)));
        let claims =
            self.provider.validate_id_token(id_token.expose(), Expect::Refresh, now as i64).await.map_err(invalid)?;
        let identity = self
            .provider
            .identify(&claims, tokens.client_info.as_deref())
            .map_err(|_| invalid(IdTokenError::DifferentUser))?;
        if identity.home_account_id != *account {
            return Err(invalid(IdTokenError::DifferentUser));
        }
        let mut entry = AccountEntry::from_identity(&identity);
        entry.account_source = cached.account_source.clone();
        Ok(entry)
    }
}
