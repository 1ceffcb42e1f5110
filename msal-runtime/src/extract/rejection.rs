//! The rejections of the extractors: what went wrong, as data an app can match on and render its own way.
//! Each renders the runtime's default answer through [`IntoResponse`]: a redirect to the provider, a 401 a
//! script can act on, or an error page (HTML for pages, JSON for scripts).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::RETRY_AFTER;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::acquire::error::{InteractionReason, InvalidResponse};
use crate::cache::store::StoreError;
use crate::config::routes::SIGN_IN_PATH;
use crate::extract::interaction::Interaction;
use crate::extract::request_kind::RequestKind;
use crate::provider::token_endpoint::ProviderError;
use crate::scope::set::{ScopeError, ScopeSet};
use crate::web::page::error_page;

/// Why there is no [`SignedInUser`](crate::SignedInUser). By default: 401 with JSON
/// `{"error": "not_signed_in", "sign_in_url": "/auth/signin"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedInUserRejection {
    /// No session, or it expired.
    #[error("not signed in")]
    NotSignedIn,
    /// A request that may change something came from another origin (see
    /// [`AllowCrossOrigin`](crate::AllowCrossOrigin)). By default: 403 with JSON
    /// `{"error": "cross_origin_request"}`.
    #[error("the request came from another site")]
    CrossOrigin,
    /// The shared session store did not answer, so whether the session is live cannot be told (the error is
    /// logged). By default: 503, a page for a page load and JSON `{"error": "session_unavailable"}` for a
    /// script. Sending the user to sign in instead would be wrong twice: their session may be live, and a
    /// sign-in cannot finish while the store is down.
    #[error("the session store is unavailable")]
    SessionUnavailable {
        /// How the request was made.
        request_kind: RequestKind,
    },
}

impl IntoResponse for SignedInUserRejection {
    fn into_response(self) -> Response {
        match self {
            SignedInUserRejection::NotSignedIn => {
                (StatusCode::UNAUTHORIZED, Json(json!({ "error": "not_signed_in", "sign_in_url": SIGN_IN_PATH })))
                    .into_response()
            }
            SignedInUserRejection::CrossOrigin => {
                (StatusCode::FORBIDDEN, Json(json!({ "error": "cross_origin_request" }))).into_response()
            }
            SignedInUserRejection::SessionUnavailable { request_kind: RequestKind::Fetch } => retry_soon(
                (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "session_unavailable" }))).into_response(),
            ),
            SignedInUserRejection::SessionUnavailable { .. } => {
                let (title, message) = SESSION_UNAVAILABLE;
                retry_soon(error_page(StatusCode::SERVICE_UNAVAILABLE, title, message, None))
            }
        }
    }
}

/// Why a request got no token from [`AccessTokenFor`](crate::AccessTokenFor) (or a `#[requires_scopes]`
/// handler). Return it from the handler for the default answer, or match on it and answer your own way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenForRejection {
    /// Nobody is signed in. By default the user is sent to sign in (a `fetch()` gets a 401 with the URL).
    #[error("sign-in required")]
    SignInRequired(Interaction),
    /// The user must interact with the provider: consent, sign in again, or satisfy a claims challenge. By
    /// default they are sent there (a `fetch()` gets a 401 with the consent URL).
    #[error("interaction required: {}", .0.reason().map(|reason| reason.to_string()).unwrap_or_default())]
    InteractionRequired(Interaction),
    /// The user was just sent to the provider for these scopes and still cannot get a token: sending them
    /// again would loop. By default: 403 (permission not granted) or 503 (the sign-in was not kept).
    #[error("interaction did not provide the token ({reason})")]
    InteractionDidNotHelp {
        /// How the request was made.
        request_kind: RequestKind,
        /// The scopes the request needs.
        scopes: ScopeSet,
        /// Why interaction is still required.
        reason: InteractionReason,
    },
    /// The provider is throttling or failing. By default: 503 with `Retry-After` when the provider said.
    #[error("the identity provider is unavailable")]
    ProviderUnavailable {
        /// How the request was made.
        request_kind: RequestKind,
        /// How long the provider asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The provider refused the app's request for a reason the user cannot fix (the app's registration or
    /// configuration). By default: 500.
    #[error("the identity provider refused the app's request: {}", .error.error)]
    ProviderRefused {
        /// How the request was made.
        request_kind: RequestKind,
        /// The provider's error response.
        error: Arc<ProviderError>,
    },
    /// The provider's answer was unusable. By default: 502.
    #[error("the identity provider's answer was unusable: {error}")]
    InvalidProviderResponse {
        /// How the request was made.
        request_kind: RequestKind,
        /// What was wrong with it.
        error: Arc<InvalidResponse>,
    },
    /// The session or token cache store failed. By default: 503 with `Retry-After`, the store's error
    /// logged but not shown.
    #[error("the session or token store is unavailable: {error}")]
    CacheUnavailable {
        /// How the request was made.
        request_kind: RequestKind,
        /// The store's error.
        error: Arc<StoreError>,
    },
    /// A request that may change something came from another origin (and its route did not opt out with
    /// [`AllowCrossOrigin`](crate::AllowCrossOrigin)). By default: 403.
    #[error("the request came from another site")]
    CrossOrigin {
        /// How the request was made.
        request_kind: RequestKind,
    },
    /// A [`RequiredScopes`](crate::RequiredScopes) implementation lists an invalid scope: a programming
    /// error, answered 500.
    #[error("a RequiredScopes implementation lists an invalid scope: {0}")]
    InvalidScopes(ScopeError),
}

impl AccessTokenForRejection {
    /// The interaction the user needs, for the two rejections that send them to the provider.
    pub fn interaction(&self) -> Option<&Interaction> {
        match self {
            AccessTokenForRejection::SignInRequired(interaction)
            | AccessTokenForRejection::InteractionRequired(interaction) => Some(interaction),
            _ => None,
        }
    }

    /// How the request was made (unknown only for [`InvalidScopes`](Self::InvalidScopes), which is found
    /// before the request is looked at).
    pub fn request_kind(&self) -> Option<RequestKind> {
        match self {
            AccessTokenForRejection::SignInRequired(interaction)
            | AccessTokenForRejection::InteractionRequired(interaction) => Some(interaction.request_kind()),
            AccessTokenForRejection::InteractionDidNotHelp { request_kind, .. }
            | AccessTokenForRejection::ProviderUnavailable { request_kind, .. }
            | AccessTokenForRejection::ProviderRefused { request_kind, .. }
            | AccessTokenForRejection::InvalidProviderResponse { request_kind, .. }
            | AccessTokenForRejection::CacheUnavailable { request_kind, .. }
            | AccessTokenForRejection::CrossOrigin { request_kind } => Some(*request_kind),
            AccessTokenForRejection::InvalidScopes(_) => None,
        }
    }
}

impl IntoResponse for AccessTokenForRejection {
    fn into_response(self) -> Response {
        let (request_kind, status, title, message) = match self {
            AccessTokenForRejection::SignInRequired(interaction)
            | AccessTokenForRejection::InteractionRequired(interaction) => return interaction.into_response(),
            AccessTokenForRejection::InteractionDidNotHelp { request_kind, scopes, reason } => match reason {
                InteractionReason::NoCachedTokens => (
                    request_kind,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Your sign-in could not be kept",
                    "You signed in, but the app could not keep your sign-in. Please try again later.".to_owned(),
                ),
                _ => (
                    request_kind,
                    StatusCode::FORBIDDEN,
                    "Permission not granted",
                    format!(
                        "The app still lacks permission for {} after you were asked. An administrator may need to \
                         grant it.",
                        scopes.to_scope_string()
                    ),
                ),
            },
            AccessTokenForRejection::ProviderUnavailable { request_kind, retry_after } => {
                let mut response = failure(
                    request_kind,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The identity provider is unavailable",
                    "The sign-in service did not answer. Please try again in a moment.",
                );
                if let Some(wait) = retry_after {
                    let seconds = wait.as_secs().max(1).to_string();
                    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_str(&seconds).expect("digits"));
                }
                return response;
            }
            AccessTokenForRejection::ProviderRefused { request_kind, error } => (
                request_kind,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The app is misconfigured",
                format!("The identity provider refused the app's token request ({}).", error.error),
            ),
            AccessTokenForRejection::InvalidProviderResponse { request_kind, error } => (
                request_kind,
                StatusCode::BAD_GATEWAY,
                "The identity provider's answer was unusable",
                format!("The identity provider sent an unusable response: {error}."),
            ),
            // The store's error is logged where it happened; its text (a host, an OS error) is not the
            // user's business.
            AccessTokenForRejection::CacheUnavailable { request_kind, .. } => {
                let (title, message) = SESSION_UNAVAILABLE;
                return retry_soon(failure(request_kind, StatusCode::SERVICE_UNAVAILABLE, title, message));
            }
            AccessTokenForRejection::CrossOrigin { request_kind } => (
                request_kind,
                StatusCode::FORBIDDEN,
                "Request refused",
                "This request came from another site. Please use the app's own pages.".to_owned(),
            ),
            AccessTokenForRejection::InvalidScopes(_) => {
                let message = "a RequiredScopes implementation lists an invalid scope";
                return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
            }
        };
        failure(request_kind, status, title, &message)
    }
}

/// The title and message of a 503 for a session or token store that did not answer.
const SESSION_UNAVAILABLE: (&str, &str) = (
    "Your session is temporarily unavailable",
    "The app could not reach its session store. Please try again in a moment.",
);

/// `response` with a `Retry-After` of a few seconds: a store outage is waited out, not signed out of.
fn retry_soon(mut response: Response) -> Response {
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// An error as a page for the browser or as JSON for scripts.
fn failure(request_kind: RequestKind, status: StatusCode, title: &str, message: &str) -> Response {
    match request_kind {
        RequestKind::Fetch => (status, Json(json!({ "error": title, "message": message }))).into_response(),
        _ => error_page(status, title, message, Some(("/", "Home"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_store_outage_is_a_503_to_retry_that_does_not_show_the_stores_error() {
        let refused = || Arc::new(StoreError::unavailable(std::io::Error::other("connect to 10.0.0.7:6379 refused")));
        for request_kind in [RequestKind::Navigation, RequestKind::Fetch] {
            let responses = [
                SignedInUserRejection::SessionUnavailable { request_kind }.into_response(),
                AccessTokenForRejection::CacheUnavailable { request_kind, error: refused() }.into_response(),
            ];
            for response in responses {
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(response.headers()[RETRY_AFTER], "5");
                let is_json = response.headers()[http::header::CONTENT_TYPE] == "application/json";
                assert_eq!(is_json, request_kind == RequestKind::Fetch, "{request_kind:?}");
                let body = body(response).await;
                assert!(body.contains("unavailable") && !body.contains("10.0.0.7"), "{body}");
            }
        }
    }
}
