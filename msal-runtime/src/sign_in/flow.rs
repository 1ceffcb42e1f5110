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
use crate::session::sessions::Sessions;
use crate::sign_in::callback::{Callback, callback_get, callback_post};
use crate::sign_in::pending::PendingSignIns;
use crate::sign_in::redeem::Redemption;
use crate::sign_in::sign_out::{SignOut, sign_out};
use crate::sign_in::start::{SignInStart, sign_in};
use crate::web::cookies::Cookies;

/// Starting sign-ins, the callback, and sign-out, over the app's provider, sessions and token cache.
#[derive(Debug, Clone)]
pub(crate) struct SignInFlow {
    start: Arc<SignInStart>,
    callback: Arc<Callback>,
    sign_out: Arc<SignOut>,
    callback_path: String,
}

impl SignInFlow {
    pub(crate) fn new(
        config: &MsalConfig,
        provider: Arc<Provider>,
        sessions: Arc<Sessions>,
        cache: TokenCache,
        cookies: Cookies,
    ) -> Self {
        let pending = PendingSignIns::new(
            config.max_pending_sign_ins,
            config.max_pending_sign_ins_per_browser,
            config.sign_in_timeout,
            // A duplicate callback waits as long as the first one's provider calls may take.
            config.http_timeout * 3 + Duration::from_secs(5),
        );
        let start =
            SignInStart::new(config, provider.authorization_endpoint().clone(), Arc::clone(&pending), cookies.clone());
        let sign_out =
            SignOut::new(config, provider.end_session_endpoint().cloned(), Arc::clone(&sessions), cache.clone());
        let redemption = Redemption::new(config, provider, cache, Arc::clone(&sessions));
        let callback = Callback::new(pending, Arc::new(redemption), sessions, cookies);
        Self {
            start: Arc::new(start),
            callback: Arc::new(callback),
            sign_out: Arc::new(sign_out),
            callback_path: config.callback_path().to_owned(),
        }
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
