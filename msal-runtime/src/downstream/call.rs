//! [`AccessToken::call`]: a request to an API with the user's token, and [`DownstreamError`], what a handler
//! returns with `?` when the API asks for more.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::AUTHORIZATION;

use crate::acquire::access_token::AccessToken;
use crate::downstream::challenge::{Challenge, ChallengeError, ClaimsChallenge, InsufficientScope, challenge_of};
use crate::sign_in::start::sign_in_link;
use crate::web::page::error_page;

/// An API call that did not give the handler an answer to use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownstreamError {
    /// The API wants a token with more claims (Conditional Access, continuous access evaluation): the user
    /// must re-authenticate with them.
    #[error("the API asks for a token with more claims")]
    ClaimsChallenge(ClaimsChallenge),
    /// The API wants scopes the token lacks: the user must consent to them.
    #[error("the API asks for more scopes")]
    InsufficientScope(InsufficientScope),
    /// The API's challenge could not be read.
    #[error("{0}")]
    MalformedChallenge(#[from] ChallengeError),
    /// The request failed, or the API answered with an error status the handler gave up on
    /// (`error_for_status`).
    #[error("the API call failed: {0}")]
    Http(#[from] reqwest::Error),
}

/// What the `answer_challenges` middleware needs to send the user to the provider: the challenge, and the
/// token the API refused (so that it is not served again).
#[derive(Debug, Clone)]
pub(crate) struct PendingChallenge {
    pub(crate) challenge: Challenge,
    pub(crate) token: AccessToken,
}

impl AccessToken {
    /// Sends `request` with this token as `Authorization: Bearer` (a sensitive header), and reads the API's
    /// challenge if it answers `401` or `403` with one the runtime can satisfy: a claims challenge
    /// (`error="insufficient_claims"`) or missing scopes (`error="insufficient_scope"`). Any other answer is
    /// the handler's, as is.
    ///
    /// ```no_run
    /// use axum::response::Html;
    /// use msal_runtime::{AccessToken, error::DownstreamError, requires_scopes};
    ///
    /// #[requires_scopes("Mail.Read")]
    /// async fn inbox(token: AccessToken) -> Result<Html<String>, DownstreamError> {
    ///     let request = reqwest::Client::new().get("https://mail.example/messages");
    ///     let messages = token.call(request).await?.error_for_status()?.text().await?;
    ///     Ok(Html(messages))
    /// }
    /// ```
    ///
    /// Returned from a handler, [`DownstreamError`] answers a challenge with a page that links to the
    /// consent; with the [`answer_challenges`](crate::answer_challenges) middleware the user is sent there
    /// directly, as the extractors do, and the refused token is dropped from the cache.
    pub async fn call(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, DownstreamError> {
        let response = request.header(AUTHORIZATION, self.authorization_header()).send().await?;
        match challenge_of(response.status(), response.headers())? {
            None => Ok(response),
            Some(Challenge::Claims(mut claims)) => {
                claims.refused = Some(self.clone());
                Err(DownstreamError::ClaimsChallenge(claims))
            }
            Some(Challenge::Scope(mut scope)) => {
                scope.refused = Some(self.clone());
                Err(DownstreamError::InsufficientScope(scope))
            }
        }
    }
}

impl DownstreamError {
    /// A same-origin URL that starts the sign-in the challenge needs, for the page answered without the
    /// middleware (which knows the page to come back to, and the user's login hint).
    fn consent_url(&self) -> Option<String> {
        let (scopes, claims) = match self {
            DownstreamError::ClaimsChallenge(challenge) => {
                (challenge.refused.as_ref().and_then(AccessToken::scopes), Some(challenge.claims()))
            }
            DownstreamError::InsufficientScope(needed) => (needed.scopes(), None),
            _ => return None,
        };
        Some(sign_in_link(None, scopes, None, claims))
    }

    /// What the middleware needs, when this is a challenge of a call it knows the token of.
    fn pending(self) -> Option<PendingChallenge> {
        match self {
            DownstreamError::ClaimsChallenge(challenge) => {
                let token = challenge.refused.clone()?;
                Some(PendingChallenge { challenge: Challenge::Claims(challenge), token })
            }
            DownstreamError::InsufficientScope(needed) => {
                let token = needed.refused.clone()?;
                Some(PendingChallenge { challenge: Challenge::Scope(needed), token })
            }
            _ => None,
        }
    }
}

impl IntoResponse for DownstreamError {
    /// A challenge: a page with a link that starts the sign-in or consent it needs (the `answer_challenges`
    /// middleware replaces it with the redirect or the `fetch()` answer the extractors give). A failed call:
    /// `502`.
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            DownstreamError::ClaimsChallenge(_) => {
                (StatusCode::UNAUTHORIZED, "Please sign in again", "The service needs you to sign in again.")
            }
            DownstreamError::InsufficientScope(_) => {
                (StatusCode::FORBIDDEN, "Permission needed", "The service needs a permission you have not given yet.")
            }
            DownstreamError::Http(error) if error.status().is_some_and(|status| status.is_client_error()) => {
                tracing::warn!(error = %self, "an API refused a request");
                (StatusCode::BAD_REQUEST, "Request refused", "The service could not handle the request.")
            }
            DownstreamError::MalformedChallenge(_) | DownstreamError::Http(_) => {
                tracing::warn!(error = %self, "a call to an API failed");
                (StatusCode::BAD_GATEWAY, "Service unavailable", "A service this page needs could not be reached.")
            }
        };
        let link = self.consent_url();
        // The scopes of a claims challenge are the token's: without them (a token from `acquire_token_silent`)
        // the link would ask for the sign-in's scopes only, which is still a re-authentication with the claims.
        let mut response = error_page(status, title, message, link.as_deref().map(|url| (url, "Continue")));
        if let Some(pending) = self.pending() {
            response.extensions_mut().insert(pending);
        }
        response
    }
}
