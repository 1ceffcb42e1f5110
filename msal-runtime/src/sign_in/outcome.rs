//! How a sign-in ended, and the answer every copy of its callback gets: the first request and each duplicate
//! alike end where the sign-in ended (docs/SECURITY.md §6–§8).

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use http::{HeaderValue, StatusCode};

use crate::cache::store::StoreError;
use crate::config::routes::SIGN_IN_PATH;
use crate::provider::account::AccountError;
use crate::provider::authority::IssuerMismatch;
use crate::provider::id_token::IdTokenError;
use crate::provider::token_endpoint::TokenError;
use crate::session::sessions::Sessions;
use crate::session::store::SessionId;
use crate::sign_in::once::Finished;
use crate::sign_in::once_shared::SharedOutcome;
use crate::sign_in::return_url::ReturnUrl;
use crate::web::page::error_page;
use crate::web::params::ParamsError;

/// How a sign-in ended. Duplicates of its callback are answered with the same outcome.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    SignedIn { session: SessionId, return_url: ReturnUrl },
    Rejected(CallbackRejection),
}

/// Why a callback did not sign the user in.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CallbackRejection {
    #[error("the sign-in response is malformed: {0}")]
    Malformed(ParamsError),
    #[error("the sign-in response has no state")]
    MissingState,
    #[error(
        "this sign-in is unknown or has expired, or it was started in another browser or before this browser's \
         cookies were cleared"
    )]
    UnknownState,
    #[error("this sign-in was interrupted")]
    Interrupted,
    #[error("too many sign-ins are being completed right now; please try again in a moment")]
    Busy,
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
    /// How another instance's redemption of this sign-in ended.
    #[error("{message}")]
    Elsewhere { status: StatusCode, message: String },
}

impl CallbackRejection {
    fn status(&self) -> StatusCode {
        match self {
            CallbackRejection::Elsewhere { status, .. } => *status,
            CallbackRejection::Provider { error, .. } if error == "access_denied" => StatusCode::FORBIDDEN,
            CallbackRejection::TokenRequest(error) => match error.as_ref() {
                TokenError::Rejected { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            },
            CallbackRejection::Cache(_) | CallbackRejection::Interrupted | CallbackRejection::Busy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            CallbackRejection::Provider { error, .. } if error == "access_denied" => "Sign-in was cancelled",
            CallbackRejection::TokenRequest(error) if !matches!(error.as_ref(), TokenError::Rejected { .. }) => {
                "The identity provider is unavailable"
            }
            _ => "Sign-in failed",
        }
    }
}

/// The longest `error` and `error_description` of a provider's error response kept and shown; the rest of a
/// value an attacker can write into a callback URL is dropped (docs/SECURITY.md §26).
const MAX_PROVIDER_ERROR_CHARS: usize = 100;
const MAX_PROVIDER_DESCRIPTION_CHARS: usize = 500;

impl CallbackRejection {
    /// The provider's error response of an authorization request (RFC 6749 §4.1.2.1), within bounds.
    pub(crate) fn provider(error: &str, description: Option<&str>) -> Self {
        let truncate = |text: &str, max: usize| text.chars().take(max).collect::<String>();
        CallbackRejection::Provider {
            error: truncate(error, MAX_PROVIDER_ERROR_CHARS),
            description: description.map(|description| truncate(description, MAX_PROVIDER_DESCRIPTION_CHARS)),
        }
    }
}

impl Outcome {
    /// How this outcome is told to other instances.
    pub(crate) fn to_shared(&self) -> SharedOutcome {
        match self {
            Outcome::SignedIn { session, return_url } => SharedOutcome::SignedIn {
                session: session.as_cookie_value().to_owned(),
                return_url: return_url.as_str().to_owned(),
            },
            Outcome::Rejected(rejection) => {
                SharedOutcome::Rejected { status: rejection.status().as_u16(), message: rejection.to_string() }
            }
        }
    }

    /// Another instance's outcome, as this instance answers it.
    pub(crate) fn from_shared(shared: SharedOutcome) -> Self {
        match shared {
            SharedOutcome::SignedIn { session, return_url } => Outcome::SignedIn {
                session: SessionId::from_cookie(session),
                return_url: ReturnUrl::parse(&return_url).unwrap_or_else(|_| ReturnUrl::root()),
            },
            SharedOutcome::Rejected { status, message } => Outcome::Rejected(CallbackRejection::Elsewhere {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                message,
            }),
            SharedOutcome::Claimed => Outcome::Rejected(CallbackRejection::Interrupted),
        }
    }
}

impl Finished for Outcome {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                Outcome::SignedIn { session, return_url } => {
                    session.as_cookie_value().len() + return_url.as_str().len()
                }
                Outcome::Rejected(rejection) => rejection.to_string().len(),
            }
    }

    fn signed_in(&self) -> bool {
        matches!(self, Outcome::SignedIn { .. })
    }
}

/// The answer to a callback: the session cookie and a 303 to the return URL, or an error page; and, when the
/// request brought its sign-in's cookie, the deletion of that cookie (it has served).
pub(crate) fn respond(sessions: &Sessions, outcome: Outcome, end_transaction: Option<HeaderValue>) -> Response {
    let mut response = match outcome {
        Outcome::SignedIn { session, return_url } => {
            let cookie = sessions.cookie(&session);
            let location =
                HeaderValue::from_str(return_url.as_str()).expect("a validated return URL is a header value");
            (
                // 303, never 307: the browser must not re-POST a form_post body to the return URL
                // (docs/SECURITY.md §8).
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
            tracing::warn!(reason = ?rejection.to_string(), "sign-in rejected");
            error_page(
                rejection.status(),
                rejection.title(),
                &rejection.to_string(),
                Some((SIGN_IN_PATH, "Sign in again")),
            )
        }
    };
    if let Some(end_transaction) = end_transaction {
        response.headers_mut().append(SET_COOKIE, end_transaction);
    }
    response
}
