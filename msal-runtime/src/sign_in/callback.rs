//! The callback route: each authorization response claims its pending sign-in by `state`, for the browser
//! that started it (docs/SECURITY.md §2, §6). Exactly one request redeems the code (see `redeem`); duplicates — a
//! replayed URL, a double-submitted form, a browser retry — wait for its outcome and end where it ended.
//! Success is a 303 to the return URL with `Referrer-Policy: no-referrer`; any failure is a 4xx/5xx page with
//! escaped text, no session and nothing cached (see `outcome`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};

use crate::config::settings::ResponseMode;
use crate::session::sessions::Sessions;
use crate::sign_in::outcome::{CallbackRejection, Outcome, respond};
use crate::sign_in::pending::{BrowserBinding, Claim, PendingSignIns};
use crate::sign_in::redeem::Redemption;
use crate::web::cookies::{CookieKind, Cookies};
use crate::web::error_page::error_page;
use crate::web::params::Params;

/// What the callback route needs: the pending sign-ins to claim, and the redemption of a claimed one.
#[derive(Debug)]
pub(crate) struct Callback {
    pending: Arc<PendingSignIns<Outcome>>,
    redemption: Arc<Redemption>,
    sessions: Arc<Sessions>,
    cookies: Cookies,
}

impl Callback {
    pub(crate) fn new(
        pending: Arc<PendingSignIns<Outcome>>,
        redemption: Arc<Redemption>,
        sessions: Arc<Sessions>,
        cookies: Cookies,
    ) -> Self {
        Self { pending, redemption, sessions, cookies }
    }
}

/// `GET` callback (`response_mode=query`).
pub(crate) async fn callback_get(
    State(callback): State<Arc<Callback>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let raw = query.unwrap_or_default();
    complete_sign_in(&callback, headers, ResponseMode::Query, raw.as_bytes()).await
}

/// `POST` callback (`response_mode=form_post`).
pub(crate) async fn callback_post(State(callback): State<Arc<Callback>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        let message = "the sign-in response must be an application/x-www-form-urlencoded form";
        return error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Sign-in failed", message, None);
    }
    complete_sign_in(&callback, headers, ResponseMode::FormPost, &body).await
}

async fn complete_sign_in(callback: &Callback, headers: HeaderMap, mode: ResponseMode, raw: &[u8]) -> Response {
    let sessions = &callback.sessions;
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(error) => return respond(sessions, Outcome::Rejected(CallbackRejection::Malformed(error))),
    };
    let Some(state) = params.get("state").map(str::to_owned) else {
        return respond(sessions, Outcome::Rejected(CallbackRejection::MissingState));
    };
    let browser = callback.cookies.read(&headers, CookieKind::SignIn).map(|id| BrowserBinding::of(&id));
    let outcome = match callback.pending.claim(&state, browser).await {
        Claim::Unknown => Outcome::Rejected(CallbackRejection::UnknownState),
        Claim::WrongBrowser => Outcome::Rejected(CallbackRejection::WrongBrowser),
        Claim::Interrupted => Outcome::Rejected(CallbackRejection::Interrupted),
        Claim::Duplicate(outcome) => outcome,
        Claim::Redeem(sign_in, ticket) => {
            let previous_session = sessions.cookie_id(&headers);
            let redemption = Arc::clone(&callback.redemption);
            // In its own task: a browser that gives up mid-redemption (closing the connection drops this
            // handler) must not cancel it halfway; its retry then finds the finished outcome.
            let task = tokio::spawn(async move {
                let outcome = match redemption.redeem(sign_in, &params, mode, previous_session).await {
                    Ok((session, return_url)) => Outcome::SignedIn { session, return_url },
                    Err(rejection) => Outcome::Rejected(rejection),
                };
                ticket.complete(outcome.clone());
                outcome
            });
            task.await.unwrap_or(Outcome::Rejected(CallbackRejection::Interrupted))
        }
    };
    respond(sessions, outcome)
}
