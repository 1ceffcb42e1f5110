//! Sign-out (docs/SECURITY.md §18): delete the session and the user's token-cache partition, clear the
//! cookie, and end the provider's session with RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2)
//! carrying `id_token_hint`. Another site cannot sign the user out (docs/SECURITY.md §28): its link
//! (`SameSite=Lax` cookies travel on top-level navigations) gets a page asking the user to confirm with a
//! form of this site, and its form post is refused.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

use crate::cache::token_cache::TokenCache;
use crate::config::routes::SIGN_OUT_PATH;
use crate::config::settings::{MsalConfig, SignInUrls};
use crate::session::sessions::Sessions;
use crate::web::page::{error_page, escape, page};
use crate::web::same_origin::SameOrigin;

/// What signing out needs: the sessions and tokens to delete, and where the provider's session ends.
#[derive(Debug)]
pub(crate) struct SignOut {
    client_id: String,
    same_origin: SameOrigin,
    post_logout_redirect_uri: Url,
    end_session_endpoint: Option<Url>,
    sessions: Arc<Sessions>,
    cache: TokenCache,
}

impl SignOut {
    pub(crate) fn new(
        config: &MsalConfig,
        urls: &SignInUrls,
        end_session_endpoint: Option<Url>,
        sessions: Arc<Sessions>,
        cache: TokenCache,
    ) -> Self {
        Self {
            client_id: config.client_id.clone(),
            same_origin: SameOrigin::new(urls.redirect_uri.origin(), config.trusted_origins.clone()),
            post_logout_redirect_uri: urls.post_logout_redirect_uri.clone(),
            end_session_endpoint,
            sessions,
            cache,
        }
    }
}

/// `GET|POST /auth/signout`.
pub(crate) async fn sign_out(State(sign_out): State<Arc<SignOut>>, method: Method, headers: HeaderMap) -> Response {
    let sign_out = &*sign_out;
    if sign_out.same_origin.is_cross_origin(&headers) {
        if method == Method::POST {
            return error_page(
                StatusCode::FORBIDDEN,
                "Sign-out refused",
                "the sign-out request came from another site",
                Some(("/", "Home")),
            );
        }
        return confirmation_page();
    }

    let mut id_token_hint = None;
    if let Some((session, record)) = sign_out.sessions.current(&headers).await {
        let home = &record.account.home_account_id;
        if let Ok(Some(stored)) = sign_out.cache.load(home).await {
            id_token_hint = stored.partition.id_token(&sign_out.client_id).map(|entry| entry.secret.clone());
        }
        sign_out.sessions.end(&session).await;
        if let Err(error) = sign_out.cache.remove_account(home).await {
            tracing::error!(error = ?error.to_string(), home_account_id = ?home, "signed out, but the user's cached tokens could not be deleted");
        }
        tracing::info!(home_account_id = ?home, "signed out");
    }

    let post_logout = &sign_out.post_logout_redirect_uri;
    let location = match (&sign_out.end_session_endpoint, id_token_hint) {
        (Some(end_session), Some(hint)) => {
            let mut url = end_session.clone();
            url.query_pairs_mut()
                .append_pair("id_token_hint", hint.expose())
                .append_pair("post_logout_redirect_uri", post_logout.as_str())
                .append_pair("client_id", &sign_out.client_id);
            url
        }
        // Nobody was signed in here (or the provider has no logout endpoint): nothing to end at the provider.
        _ => post_logout.clone(),
    };
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, HeaderValue::from_str(location.as_str()).expect("a URL is a valid header value")),
            (SET_COOKIE, sign_out.sessions.clear_cookie()),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// Asks the user to confirm a sign-out another site's link asked for; its form posts from this site.
fn confirmation_page() -> Response {
    let body = format!(
        "<p>A page of another site asked to sign you out of this app.</p>\
         <form method=\"post\" action=\"{action}\"><button type=\"submit\">Sign out</button></form>\
         <p><a href=\"/\">Stay signed in</a></p>",
        action = escape(SIGN_OUT_PATH),
    );
    page(StatusCode::OK, "Sign out?", &body)
}
