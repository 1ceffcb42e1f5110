//! The callback route: each authorization response opens its sign-in from the sealed cookie of the browser
//! that started it, named for its `state` (docs/SECURITY.md §2, §6; see `transaction`), and claims it (see
//! `once`). Exactly one request redeems the code (see `redeem`); duplicates — a double-submitted form, a
//! browser retry, twenty concurrent copies — wait for its outcome and end where it ended, and the cookie is
//! deleted, so that a replay later finds nothing to redeem. Success is a 303 to the return URL with
//! `Referrer-Policy: no-referrer`; any failure is a 4xx/5xx page with escaped text, no session and nothing
//! cached (see `outcome`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::clock::unix_now;
use crate::config::settings::ResponseMode;
use crate::session::sessions::Sessions;
use crate::sign_in::once::{Claim, RedeemOnce};
use crate::sign_in::once_shared::{SharedClaim, SharedRedemptions};
use crate::sign_in::outcome::{CallbackRejection, Outcome, respond};
use crate::sign_in::redeem::Redemption;
use crate::sign_in::transaction::Transactions;
use crate::web::page::error_page;
use crate::web::params::Params;

/// What the callback route needs: the sign-ins' cookies, the one-redemption store, and the redemption.
#[derive(Debug)]
pub(crate) struct Callback {
    transactions: Transactions,
    once: Arc<RedeemOnce<Outcome>>,
    redemption: Arc<Redemption>,
    sessions: Arc<Sessions>,
    /// With a shared store: the claims every instance sees.
    shared: Option<Arc<SharedRedemptions>>,
}

impl Callback {
    pub(crate) fn new(
        transactions: Transactions,
        once: Arc<RedeemOnce<Outcome>>,
        redemption: Arc<Redemption>,
        sessions: Arc<Sessions>,
        shared: Option<Arc<SharedRedemptions>>,
    ) -> Self {
        Self { transactions, once, redemption, sessions, shared }
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
    let span = tracing::info_span!("callback", outcome = tracing::field::Empty);
    let settled = tracing::Instrument::instrument(settle(callback, headers, mode, raw), span.clone()).await;
    let Settled { outcome, end_transaction, duplicate } = settled;
    report(&span, &outcome, duplicate);
    respond(&callback.sessions, outcome, end_transaction)
}

/// How a callback ended: its outcome, the deletion of its sign-in's cookie when it has served, and whether
/// this was a copy of a callback answered with the first one's outcome.
struct Settled {
    outcome: Outcome,
    end_transaction: Option<HeaderValue>,
    duplicate: bool,
}

impl Settled {
    fn new(outcome: Outcome, end_transaction: Option<HeaderValue>) -> Self {
        Self { outcome, end_transaction, duplicate: false }
    }
}

/// What a callback's outcome is reported as (`telemetry::SIGN_INS`, the `callback` span's `outcome`).
fn report(span: &tracing::Span, outcome: &Outcome, duplicate: bool) {
    let name = match outcome {
        _ if duplicate => "duplicate",
        Outcome::SignedIn { .. } => "signed_in",
        Outcome::Rejected(_) => "rejected",
    };
    span.record("outcome", name);
    crate::telemetry::sign_in(name);
}

async fn settle(callback: &Callback, headers: HeaderMap, mode: ResponseMode, raw: &[u8]) -> Settled {
    let sessions = &callback.sessions;
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(error) => return Settled::new(Outcome::Rejected(CallbackRejection::Malformed(error)), None),
    };
    let Some(state) = params.get("state").map(str::to_owned) else {
        return Settled::new(Outcome::Rejected(CallbackRejection::MissingState), None);
    };
    let Some(sign_in) = callback.transactions.open(&headers, &state, unix_now()) else {
        let outcome = replayed(callback, &state, &headers).await;
        let duplicate = matches!(outcome, Outcome::SignedIn { .. });
        return Settled { outcome, end_transaction: None, duplicate };
    };
    let end_transaction = Some(callback.transactions.end(&state));
    let deadline = callback.transactions.deadline(sign_in.started_at);
    let outcome = match callback.once.claim(&state, deadline).await {
        Claim::Busy => Outcome::Rejected(CallbackRejection::Busy),
        Claim::Interrupted => Outcome::Rejected(CallbackRejection::Interrupted),
        Claim::Duplicate(outcome) => return Settled { outcome, end_transaction, duplicate: true },
        Claim::Redeem(ticket) => {
            let shared_claim = match &callback.shared {
                None => None,
                Some(shared) => match shared.claim(&state, deadline).await {
                    Ok(SharedClaim::Redeem { version }) => Some((Arc::clone(shared), version)),
                    Ok(SharedClaim::Finished(outcome)) => {
                        let outcome = Outcome::from_shared(outcome);
                        ticket.complete(outcome.clone());
                        return Settled { outcome, end_transaction, duplicate: true };
                    }
                    Ok(SharedClaim::Interrupted) => {
                        let outcome = Outcome::Rejected(CallbackRejection::Interrupted);
                        ticket.complete(outcome.clone());
                        return Settled::new(outcome, end_transaction);
                    }
                    Err(error) => {
                        // Nothing was redeemed: the browser may retry with the cookie it still has.
                        tracing::warn!(error = %error, "a sign-in could not be claimed in the shared store");
                        ticket.release();
                        return Settled::new(Outcome::Rejected(CallbackRejection::Cache(Arc::new(error))), None);
                    }
                },
            };
            let previous_session = sessions.cookie_id(&headers);
            let redemption = Arc::clone(&callback.redemption);
            // In its own task: a browser that gives up mid-redemption (closing the connection drops this
            // handler) must not cancel it halfway; its retry then finds the finished outcome.
            let task = tokio::spawn(async move {
                let outcome = match redemption.redeem(sign_in, &params, mode, previous_session).await {
                    Ok((session, return_url)) => Outcome::SignedIn { session, return_url },
                    Err(rejection) => Outcome::Rejected(rejection),
                };
                if let Some((shared, version)) = shared_claim
                    && let Err(error) = shared.finish(&state, version, &outcome.to_shared(), deadline).await
                {
                    // Other instances' duplicates then answer "interrupted"; none redeems the code.
                    tracing::warn!(error = %error, "a sign-in's outcome could not be written to the shared store");
                }
                ticket.complete(outcome.clone());
                outcome
            });
            task.await.unwrap_or(Outcome::Rejected(CallbackRejection::Interrupted))
        }
    };
    // A busy store redeemed nothing: the sign-in's cookie stays, so that the browser can retry.
    let busy = matches!(outcome, Outcome::Rejected(CallbackRejection::Busy));
    Settled::new(outcome, if busy { None } else { end_transaction })
}

/// A callback without its sign-in's cookie: the cookie was deleted when the first callback came, so this is a
/// replay (a reload, the back button) or a copy from another browser. The browser that was signed in by that
/// sign-in ends where it ended; anyone else learns nothing and redeems nothing.
async fn replayed(callback: &Callback, state: &str, headers: &HeaderMap) -> Outcome {
    let mut finished = callback.once.finished(state);
    if finished.is_none()
        && let Some(shared) = &callback.shared
    {
        finished = shared.finished(state).await.ok().flatten().map(Outcome::from_shared);
    }
    match (finished, callback.sessions.cookie_id(headers)) {
        (Some(Outcome::SignedIn { session, return_url }), Some(current)) if session == current => {
            Outcome::SignedIn { session, return_url }
        }
        _ => Outcome::Rejected(CallbackRejection::UnknownState),
    }
}
