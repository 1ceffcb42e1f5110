//! What every token purchase shares, a user's refresh (`refresh.rs`) and a token without a user
//! (`without_user.rs`) alike: identical concurrent requests join one purchase in flight, each purchase runs in a
//! task of its own, and a provider request is retried once after a short pause.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::AcquireError;
use crate::provider::account::HomeAccountId;
use crate::provider::token_endpoint::{TokenError, TokenResponse};
use crate::scope::set::ScopeSet;

/// The longest wait inside a request before the single retry; a longer `Retry-After` fails the request
/// (the next one after that time succeeds).
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

/// The pause before retrying after a 5xx or a refused connection (docs/SECURITY.md §24).
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// A purchase in flight, which any number of requests await.
pub(crate) type InFlight = Shared<BoxFuture<'static, Result<AccessToken, AcquireError>>>;

/// What a purchase is for: a partition of the cache, and the scope set.
type Key = (HomeAccountId, ScopeSet);

/// The purchases in flight, one per partition and scope set.
#[derive(Default)]
pub(crate) struct Purchases {
    in_flight: Arc<Mutex<HashMap<Key, InFlight>>>,
}

impl Purchases {
    /// The purchase in flight for `account` and `scopes`, if there is one.
    pub(crate) fn joinable(&self, account: &HomeAccountId, scopes: &ScopeSet) -> Option<InFlight> {
        self.in_flight.lock().get(&(account.clone(), scopes.clone())).cloned()
    }

    /// The purchase in flight for `account` and `scopes`, joined, or a new one that `purchase` makes, recorded
    /// in `span` (its `outcome` field).
    ///
    /// The purchase runs in a task of its own: a refresh cancelled halfway (the request that started it went
    /// away, or nobody waits for it) could lose a rotated refresh token the provider has already issued, and a
    /// purchase completes (and is cached) even if every request that waited for it went away.
    pub(crate) fn join_or_start<F, P>(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
        span: tracing::Span,
        purchase: P,
    ) -> InFlight
    where
        P: FnOnce() -> F,
        F: Future<Output = Result<AccessToken, AcquireError>> + Send + 'static,
    {
        let key = (account.clone(), scopes.clone());
        let mut in_flight = self.in_flight.lock();
        if let Some(shared) = in_flight.get(&key) {
            crate::telemetry::refresh_joined();
            return shared.clone();
        }
        let purchase = purchase();
        let map = Arc::clone(&self.in_flight);
        let done = key.clone();
        let task = tokio::spawn(async move {
            let outcome = tracing::Instrument::instrument(purchase, span.clone()).await;
            span.record("outcome", if outcome.is_ok() { "ok" } else { "error" });
            map.lock().remove(&done);
            outcome
        });
        let shared =
            async move { task.await.unwrap_or_else(|_| Err(AcquireError::ProviderUnavailable { retry_after: None })) }
                .boxed()
                .shared();
        in_flight.insert(key, shared.clone());
        shared
    }
}

/// `request`, and once more after a pause when the provider was unavailable (5xx, a refused connection) and
/// asked for no longer a wait than [`MAX_INLINE_WAIT`].
pub(crate) async fn with_one_retry<F, R>(request: R) -> Result<TokenResponse, TokenError>
where
    R: Fn() -> F,
    F: Future<Output = Result<TokenResponse, TokenError>>,
{
    let pause = match request().await {
        Err(TokenError::Unavailable { status, retry_after }) => match retry_after {
            Some(wait) if wait > MAX_INLINE_WAIT => return Err(TokenError::Unavailable { status, retry_after }),
            Some(wait) => wait,
            None => RETRY_PAUSE,
        },
        Err(TokenError::Http(error)) if error.is_connect() => RETRY_PAUSE,
        outcome => return outcome,
    };
    tokio::time::sleep(pause).await;
    request().await
}
