//! The callback: where each authorization code is redeemed exactly once.
//!
//! Order matters (SECURITY.md §2, §5–§8): parse, find the pending sign-in by `state` and claim it for this
//! browser (duplicates stop here and get the first outcome), then check `iss` (RFC 9207) and the provider's
//! `error`, redeem the code, validate the ID token, write the user's tokens to their cache partition, and
//! create a new session. Success is a 303 to the return URL with `Referrer-Policy: no-referrer`; any failure
//! is a 4xx/5xx page with escaped text, no session and nothing cached.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::cache::{AccountEntry, GrantType, Issued, StoreError};
use crate::clock::unix_now;
use crate::config::ResponseMode;
use crate::msal::{Msal, SIGN_IN_PATH};
use crate::provider::account::{AccountError, identify};
use crate::provider::authority::IssuerMismatch;
use crate::provider::id_token::{Expect, IdTokenError};
use crate::provider::token_endpoint::TokenError;
use crate::session::store::SessionId;
use crate::sign_in::pending::{BrowserBinding, Claim, PendingSignIn};
use crate::sign_in::return_url::ReturnUrl;
use crate::web::cookies::CookieKind;
use crate::web::error_page::error_page;
use crate::web::params::{Params, ParamsError};

/// How a sign-in ended. Duplicates of its callback are answered with the same outcome.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    SignedIn { session: SessionId, return_url: ReturnUrl },
    Rejected(Rejection),
}

/// Why a callback did not sign the user in.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Rejection {
    #[error("the sign-in response is malformed: {0}")]
    Malformed(ParamsError),
    #[error("the sign-in response has no state")]
    MissingState,
    #[error("this sign-in is unknown or has expired")]
    UnknownState,
    #[error("this sign-in was started in another browser, or this browser's cookies were cleared")]
    WrongBrowser,
    #[error("this sign-in was interrupted")]
    Interrupted,
    #[error("the sign-in response arrived by the wrong method")]
    ResponseModeMismatch,
    #[error("the sign-in response comes from an unexpected issuer: {0}")]
    Issuer(IssuerMismatch),
    #[error("the sign-in response does not name its issuer")]
    MissingIssuer,
    #[error("the identity provider reported {error}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Provider { error: String, description: Option<String> },
    #[error("the sign-in response has no authorization code")]
    MissingCode,
    #[error("{0}")]
    TokenRequest(Arc<TokenError>),
    #[error("the identity provider returned no ID token")]
    MissingIdToken,
    #[error("{0}")]
    IdToken(#[from] IdTokenError),
    #[error("{0}")]
    Account(#[from] AccountError),
    #[error("{0}")]
    Cache(Arc<StoreError>),
}

impl Rejection {
    fn status(&self) -> StatusCode {
        match self {
            Rejection::Provider { error, .. } if error == "access_denied" => StatusCode::FORBIDDEN,
            Rejection::TokenRequest(error) => match error.as_ref() {
                TokenError::Rejected { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            },
            Rejection::Cache(_) | Rejection::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Rejection::Provider { error, .. } if error == "access_denied" => "Sign-in was cancelled",
            Rejection::TokenRequest(error) if !matches!(error.as_ref(), TokenError::Rejected { .. }) => {
                "The identity provider is unavailable"
            }
            _ => "Sign-in failed",
        }
    }
}

/// `GET` callback (`response_mode=query`).
pub(crate) async fn callback_get(State(msal): State<Msal>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let raw = query.unwrap_or_default();
    complete_sign_in(msal, headers, ResponseMode::Query, raw.as_bytes()).await
}

/// `POST` callback (`response_mode=form_post`).
pub(crate) async fn callback_post(State(msal): State<Msal>, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        let message = "the sign-in response must be an application/x-www-form-urlencoded form";
        return error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Sign-in failed", message, None);
    }
    complete_sign_in(msal, headers, ResponseMode::FormPost, &body).await
}

async fn complete_sign_in(msal: Msal, headers: HeaderMap, mode: ResponseMode, raw: &[u8]) -> Response {
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(error) => return respond(&msal, Outcome::Rejected(Rejection::Malformed(error))),
    };
    let Some(state) = params.get("state").map(str::to_owned) else {
        return respond(&msal, Outcome::Rejected(Rejection::MissingState));
    };
    let browser = msal.inner.cookies.read(&headers, CookieKind::SignIn).map(|id| BrowserBinding::of(&id));
    let outcome = match msal.inner.pending.claim(&state, browser).await {
        Claim::Unknown => Outcome::Rejected(Rejection::UnknownState),
        Claim::WrongBrowser => Outcome::Rejected(Rejection::WrongBrowser),
        Claim::Interrupted => Outcome::Rejected(Rejection::Interrupted),
        Claim::Duplicate(outcome) => outcome,
        Claim::Redeem(sign_in, ticket) => {
            let previous_session = msal.inner.cookies.read(&headers, CookieKind::Session).map(SessionId::from_cookie);
            let redeeming = msal.clone();
            // In its own task: a browser that gives up mid-redemption (closing the connection drops this
            // handler) must not cancel it halfway; its retry then finds the finished outcome.
            let task = tokio::spawn(async move {
                let outcome = match redeem(&redeeming, sign_in, &params, mode, previous_session).await {
                    Ok((session, return_url)) => Outcome::SignedIn { session, return_url },
                    Err(rejection) => Outcome::Rejected(rejection),
                };
                ticket.complete(outcome.clone());
                outcome
            });
            task.await.unwrap_or(Outcome::Rejected(Rejection::Interrupted))
        }
    };
    respond(&msal, outcome)
}

/// Redeems the code of a claimed sign-in and signs the user in.
async fn redeem(
    msal: &Msal,
    sign_in: PendingSignIn,
    params: &Params,
    mode: ResponseMode,
    previous_session: Option<SessionId>,
) -> Result<(SessionId, ReturnUrl), Rejection> {
    let inner = &msal.inner;
    if mode != sign_in.response_mode {
        return Err(Rejection::ResponseModeMismatch);
    }
    // RFC 9207 §2.4, before anything else is believed, error responses included.
    let response_issuer = params.get("iss");
    match response_issuer {
        Some(iss) => inner.id_token_rules.issuer.check_response_issuer(iss).map_err(Rejection::Issuer)?,
        None if inner.metadata.authorization_response_iss_parameter_supported => return Err(Rejection::MissingIssuer),
        None => {}
    }
    if let Some(error) = params.get("error") {
        return Err(Rejection::Provider {
            error: error.to_owned(),
            description: params.get("error_description").map(str::to_owned),
        });
    }
    let code = params.get("code").ok_or(Rejection::MissingCode)?;

    let tokens = inner
        .token_endpoint
        .redeem_code(code, &inner.config.redirect_uri, sign_in.verifier.secret(), &sign_in.scopes)
        .await
        .map_err(|error| Rejection::TokenRequest(Arc::new(error)))?;
    let raw_id_token = tokens.id_token.as_ref().ok_or(Rejection::MissingIdToken)?;
    let now = unix_now();
    let claims = inner
        .id_token_rules
        .validate(&inner.keys, raw_id_token.expose(), Expect::SignIn { nonce: sign_in.nonce.expose() }, now as i64)
        .await?;
    // With Entra's issuer template the response's `iss` was matched loosely; it must be the token's own.
    if let Some(iss) = response_issuer
        && iss != claims.issuer()
    {
        let mismatch = IssuerMismatch { expected: claims.issuer().to_owned(), found: iss.to_owned() };
        return Err(Rejection::Issuer(mismatch));
    }
    let account = identify(&inner.config.authority, &claims, tokens.client_info.as_deref())?;

    let account_entry = AccountEntry::from_identity(&account);
    let issued = Issued {
        account: &account_entry,
        client_id: &inner.config.client_id,
        requested: &sign_in.scopes,
        grant_type: GrantType::AuthorizationCode,
        now,
    };
    inner
        .cache
        .update(&account.home_account_id, |partition| partition.record(&issued, &tokens))
        .await
        .map_err(|error| Rejection::Cache(Arc::new(error)))?;

    // A new session id at every sign-in (SECURITY.md §18); the one this browser had before is ended.
    if let Some(previous) = previous_session {
        inner.sessions.remove(&previous);
    }
    tracing::info!(home_account_id = %account.home_account_id, "signed in");
    let session = inner.sessions.create(account, sign_in.interaction);
    Ok((session, sign_in.return_url))
}

fn respond(msal: &Msal, outcome: Outcome) -> Response {
    match outcome {
        Outcome::SignedIn { session, return_url } => {
            let cookie = msal.inner.cookies.set(
                CookieKind::Session,
                session.as_cookie_value(),
                msal.inner.sessions.cookie_lifetime(),
            );
            let location =
                HeaderValue::from_str(return_url.as_str()).expect("a validated return URL is a header value");
            (
                // 303, never 307: the browser must not re-POST a form_post body to the return URL (§8).
                StatusCode::SEE_OTHER,
                [
                    (LOCATION, location),
                    (SET_COOKIE, cookie),
                    (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
                    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response()
        }
        Outcome::Rejected(rejection) => {
            tracing::warn!(reason = %rejection, "sign-in rejected");
            error_page(
                rejection.status(),
                rejection.title(),
                &rejection.to_string(),
                Some((SIGN_IN_PATH, "Sign in again")),
            )
        }
    }
}
