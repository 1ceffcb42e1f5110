//! [`SignInFlow`]: the sign-in parts of one app put together, and the routes that serve them
//! (`GET /auth/signin`, the callback at the redirect URI's path, `GET|POST /auth/signout`). Each route gets
//! exactly the part it needs; nothing in the flow imports this file back.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::cache::token_cache::TokenCache;
use crate::config::routes::{SIGN_IN_PATH, SIGN_OUT_PATH};
use crate::config::settings::MsalConfig;
use crate::provider::trust::Provider;
use crate::scope::set::ScopeSet;
use crate::session::sessions::Sessions;
use crate::sign_in::callback::{Callback, callback_get, callback_post};
use crate::sign_in::once::{Bounds, RedeemOnce};
use crate::sign_in::once_shared::SharedRedemptions;
use crate::sign_in::outcome::Outcome;
use crate::sign_in::redeem::Redemption;
use crate::sign_in::sign_out::{SignOut, sign_out};
use crate::sign_in::start::{SignInStart, sign_in};
use crate::sign_in::transaction::Transactions;
use crate::store::Shared;
use crate::web::cookies::Cookies;

/// Redemptions at the same moment: each is a request to the provider, and their number is what the provider
/// can serve, not what a flood of callbacks asks for.
const MAX_REDEMPTIONS_IN_FLIGHT: usize = 4096;

/// Starting sign-ins, the callback, and sign-out, over the app's provider, sessions and token cache.
#[derive(Debug, Clone)]
pub(crate) struct SignInFlow {
    start: Arc<SignInStart>,
    callback: Arc<Callback>,
    sign_out: Arc<SignOut>,
    once: Arc<RedeemOnce<Outcome>>,
    callback_path: String,
}

impl SignInFlow {
    /// The flow of `config`'s sign-in; `None` for a runtime without sign-in.
    pub(crate) fn new(
        config: &MsalConfig,
        provider: Arc<Provider>,
        sessions: Arc<Sessions>,
        cache: TokenCache,
        cookies: Cookies,
        handler_scopes: &ScopeSet,
        shared: Option<&Shared>,
    ) -> Option<Self> {
        let urls = config.sign_in.as_ref()?;
        let transactions =
            Transactions::new(cookies, config.sign_in_timeout, config.max_pending_sign_ins_per_browser.get());
        // A duplicate callback waits as long as the first one's provider calls may take.
        let duplicate_wait = config.http_timeout * 3 + Duration::from_secs(5);
        let once = RedeemOnce::new(
            Bounds { max_in_flight: MAX_REDEMPTIONS_IN_FLIGHT, max_bytes: config.max_sign_in_memory },
            duplicate_wait,
        );
        let shared_redemptions = shared.map(|shared| {
            Arc::new(SharedRedemptions::new(Arc::clone(&shared.store), Arc::clone(&shared.keys), duplicate_wait))
        });
        let authorization_endpoint = provider.authorization_endpoint().clone();
        let start = SignInStart::new(config, urls, authorization_endpoint, handler_scopes, transactions.clone());
        let end_session_endpoint = provider.end_session_endpoint().cloned();
        let sign_out = SignOut::new(config, urls, end_session_endpoint, Arc::clone(&sessions), cache.clone());
        let redemption = Redemption::new(config, urls, provider, cache, Arc::clone(&sessions));
        let callback =
            Callback::new(transactions, Arc::clone(&once), Arc::new(redemption), sessions, shared_redemptions);
        Some(Self {
            start: Arc::new(start),
            callback: Arc::new(callback),
            sign_out: Arc::new(sign_out),
            once,
            callback_path: urls.redirect_uri.path().to_owned(),
        })
    }

    /// The bytes the server holds for sign-ins: only those whose callback came (see `once`).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.once.bytes()
    }

    /// Starts sign-ins; consent and re-authentication start theirs through it too.
    pub(crate) fn start(&self) -> &SignInStart {
        &self.start
    }

    pub(crate) fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let start = Router::new().route(SIGN_IN_PATH, get(sign_in)).with_state(Arc::clone(&self.start));
        let callback = Router::new()
            .route(&self.callback_path, get(callback_get).post(callback_post))
            .with_state(Arc::clone(&self.callback));
        let sign_out =
            Router::new().route(SIGN_OUT_PATH, get(sign_out).post(sign_out)).with_state(Arc::clone(&self.sign_out));
        start.merge(callback).merge(sign_out)
    }
}
