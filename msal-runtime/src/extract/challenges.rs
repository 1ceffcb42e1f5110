//! [`answer_challenges`]: the middleware that answers an API's challenge (see `downstream`) the way the
//! extractors answer a missing consent: a page load or a form post goes to the provider (with the API's
//! `claims`, or for the scopes it named) and comes back; a `fetch()` gets a 401 with the consent URL. The
//! token the API refused is dropped from the cache first, so that no request is served it again.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT, COOKIE, REFERER};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::acquire::error::{InteractionReason, InteractionRequired};
use crate::downstream::call::PendingChallenge;
use crate::downstream::challenge::Challenge;
use crate::extract::interaction::{interaction_required, sign_in_required};
use crate::extract::rejection::AccessTokenForRejection;
use crate::extract::request_kind::RequestKind;
use crate::msal::Msal;

/// The request headers an answer to a challenge reads: the cookies (the session; the sign-ins in progress),
/// where the request came from, and how it was made (`RequestKind`).
const KEPT: [HeaderName; 5] =
    [COOKIE, REFERER, ACCEPT, HeaderName::from_static("sec-fetch-mode"), HeaderName::from_static("x-requested-with")];

/// Answers the challenges that handlers return as [`DownstreamError`](crate::error::DownstreamError): install
/// it on the routes that call APIs.
///
/// ```no_run
/// # use axum::Router;
/// # use msal_runtime::Msal;
/// # fn app(msal: Msal, routes: Router) -> Router {
/// routes.layer(axum::middleware::from_fn_with_state(msal, msal_runtime::answer_challenges))
/// # }
/// ```
///
/// It keeps a few header values of each request (reference-counted, nothing copied) and looks at each
/// response for a challenge; other responses pass untouched.
pub async fn answer_challenges(State(msal): State<Msal>, request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    // The first value of each in place; only a repeated header (HTTP/2 splits cookies) allocates.
    let mut kept: [Option<HeaderValue>; 5] = Default::default();
    let mut repeated = Vec::new();
    for (slot, name) in kept.iter_mut().zip(&KEPT) {
        let mut values = request.headers().get_all(name).iter();
        *slot = values.next().cloned();
        repeated.extend(values.map(|value| (name.clone(), value.clone())));
    }
    let mut response = next.run(request).await;
    let Some(pending) = response.extensions_mut().remove::<PendingChallenge>() else { return response };
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    let mut headers = HeaderMap::new();
    for (name, value) in KEPT.iter().zip(kept) {
        if let Some(value) = value {
            headers.append(name.clone(), value);
        }
    }
    for (name, value) in repeated {
        headers.append(name, value);
    }
    parts.headers = headers;
    answer(&msal, &parts, pending).await.unwrap_or(response)
}

/// The answer to `pending`; `None` when the user was just sent to the provider for this very thing (the
/// handler's own page, with its link, is shown rather than a loop).
async fn answer(msal: &Msal, parts: &http::request::Parts, pending: PendingChallenge) -> Option<Response> {
    let token_scopes = pending.token.scopes().cloned().unwrap_or_default();
    let (scopes, required) = match pending.challenge {
        Challenge::Claims(challenge) => (
            token_scopes,
            InteractionRequired {
                reason: InteractionReason::ClaimsChallenge,
                claims: Some(challenge.claims().to_owned()),
            },
        ),
        Challenge::Scope(needed) => (
            needed.scopes().cloned().unwrap_or(token_scopes),
            InteractionRequired { reason: InteractionReason::ConsentRequired, claims: None },
        ),
    };
    let session = match msal.sessions().record(&parts.headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return Some(sign_in_required(msal, parts, &scopes).into_response()),
        Err(error) => {
            let request_kind = RequestKind::of(&parts.method, &parts.headers);
            return Some(AccessTokenForRejection::CacheUnavailable { request_kind, error }.into_response());
        }
    };
    let account = &session.account.home_account_id;
    let secret = pending.token.secret();
    if let Err(error) =
        msal.token_cache().update_existing(account, |partition| partition.forget_access_token(secret)).await
    {
        tracing::warn!(error = %error, home_account_id = ?account, "a token an API refused could not be dropped from the cache");
    }
    tracing::info!(home_account_id = ?account, reason = %required.reason, "an API challenged the user's token");
    Some(interaction_required(msal, parts, &scopes, &session, required).await?.into_response())
}
