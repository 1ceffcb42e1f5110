//! Sign-out (SECURITY.md §18): delete the session and the user's token-cache partition, clear the cookie, and
//! end the provider's session with RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2) carrying
//! `id_token_hint`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, ORIGIN, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::msal::Msal;
use crate::web::cookies::CookieKind;
use crate::web::error_page::error_page;

/// `GET|POST /auth/signout`.
pub(crate) async fn sign_out(State(msal): State<Msal>, method: Method, headers: HeaderMap) -> Response {
    let inner = &msal.inner;
    // A cross-site form must not sign users out; browsers send `Origin` on POST (SameSite=Lax already keeps
    // the session cookie off cross-site POSTs; this also covers same-site sibling origins).
    if method == Method::POST && !same_origin(&headers, &inner.config.redirect_uri) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "the sign-out request came from another site",
            Some(("/", "Home")),
        );
    }

    let mut id_token_hint = None;
    if let Some((session, record)) = msal.session(&headers) {
        let home = &record.account.home_account_id;
        if let Ok(Some(stored)) = inner.cache.load(home).await {
            id_token_hint = stored.partition.id_token(&inner.config.client_id).map(|entry| entry.secret.clone());
        }
        inner.sessions.remove(&session);
        if let Err(error) = inner.cache.remove_account(home).await {
            tracing::error!(%error, home_account_id = %home, "signed out, but the user's cached tokens could not be deleted");
        }
        tracing::info!(home_account_id = %home, "signed out");
    }

    let post_logout = &inner.config.post_logout_redirect_uri;
    let location = match (&inner.metadata.end_session_endpoint, id_token_hint) {
        (Some(end_session), Some(hint)) => {
            let mut url = end_session.clone();
            url.query_pairs_mut()
                .append_pair("id_token_hint", hint.expose())
                .append_pair("post_logout_redirect_uri", post_logout.as_str())
                .append_pair("client_id", &inner.config.client_id);
            url
        }
        // Nobody was signed in here (or the provider has no logout endpoint): nothing to end at the provider.
        _ => post_logout.clone(),
    };
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, HeaderValue::from_str(location.as_str()).expect("a URL is a valid header value")),
            (SET_COOKIE, inner.cookies.clear(CookieKind::Session)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

fn same_origin(headers: &HeaderMap, app: &url::Url) -> bool {
    match headers.get(ORIGIN).map(|origin| origin.to_str()) {
        None => true,
        Some(Ok(origin)) => url::Url::parse(origin).is_ok_and(|origin| origin.origin() == app.origin()),
        Some(Err(_)) => false,
    }
}
