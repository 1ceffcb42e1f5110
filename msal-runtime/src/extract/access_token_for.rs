//! [`AccessTokenFor`]: an access token for the signed-in user and a scope set, or the response that gets one.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::acquire::InteractionReason;
use crate::acquire::access_token::AccessToken;
use crate::msal::Msal;
use crate::scope::required::{RequiredScopes, scopes_of};
use crate::scope::set::{ScopeError, ScopeSet};

/// Extracts a valid access token of the signed-in user for `R`'s scopes.
///
/// From the cache when possible (a hash lookup), by refreshing otherwise; when neither works the request is
/// answered for the user: a page load goes to the provider to sign in or consent and comes back, a `fetch()`
/// gets a 401 with a consent URL, a form POST comes back to its form page. Requires [`Msal::layer`].
///
pub struct AccessTokenFor<R: RequiredScopes> {
    token: AccessToken,
    scopes: PhantomData<fn() -> R>,
}

impl<R: RequiredScopes> AccessTokenFor<R> {
    /// The token.
    pub fn into_token(self) -> AccessToken {
        self.token
    }
}

impl<R: RequiredScopes> Deref for AccessTokenFor<R> {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        &self.token
    }
}

impl<R: RequiredScopes> fmt::Debug for AccessTokenFor<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AccessTokenFor").field(&self.token).field(&R::SCOPES).finish()
    }
}

impl<S: Send + Sync, R: RequiredScopes> FromRequestParts<S> for AccessTokenFor<R> {
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let msal = super::msal(parts).ok_or_else(TokenRejection::layer_missing)?.clone();
        let scopes = scopes_of::<R>().map_err(TokenRejection::invalid_scopes)?;
        let token = msal.token_for_request(parts, scopes).await?;
        Ok(Self { token, scopes: PhantomData })
    }
}

impl Msal {
    /// A token for `scopes` (without reserved scopes) for the request's user, or the response that gets one.
    pub(crate) async fn token_for_request(
        &self,
        parts: &Parts,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, TokenRejection> {
        let Some((_, session)) = self.session(&parts.headers) else {
            return Err(self.interaction(parts, scopes, scopes, None, None));
        };
        match self.acquire(&session.account.home_account_id, scopes).await {
            Ok(token) => Ok(token),
            Err(error) => Err(self.token_rejection(parts, scopes, &session, error).await),
        }
    }
}

/// Why a request got no token, with the response that answers it (a redirect, a 401 with a consent URL, or
/// an error page). Return it from the handler, or inspect [`reason`](Self::reason) first.
pub struct TokenRejection {
    reason: TokenRejectionReason,
    response: Response,
}

/// The reason of a [`TokenRejection`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejectionReason {
    /// Nobody is signed in.
    #[error("sign-in required")]
    SignInRequired,
    /// The user must interact with the provider.
    #[error("{0}")]
    InteractionRequired(InteractionReason),
    /// The user was just sent to interact for these scopes and still cannot get them.
    #[error("interaction did not provide the token")]
    InteractionDidNotHelp,
    /// The provider is throttling or failing.
    #[error("the identity provider is unavailable")]
    ProviderUnavailable,
    /// The provider refused the app's request (configuration).
    #[error("the identity provider refused the app's request")]
    ProviderRefused,
    /// The provider's answer was unusable.
    #[error("the identity provider's answer was unusable")]
    InvalidProviderResponse,
    /// The token cache failed.
    #[error("the token cache is unavailable")]
    CacheUnavailable,
    /// `Msal::layer()` does not wrap the route.
    #[error("can't acquire a token: is `Msal::layer()` installed on this router?")]
    LayerMissing,
    /// A [`RequiredScopes`] implementation lists an invalid scope.
    #[error("a RequiredScopes implementation lists an invalid scope")]
    InvalidScopes,
}

impl TokenRejection {
    pub(crate) fn new(reason: TokenRejectionReason, response: Response) -> Self {
        Self { reason, response }
    }

    fn layer_missing() -> Self {
        let reason = TokenRejectionReason::LayerMissing;
        tracing::error!("{reason}");
        let response = (StatusCode::INTERNAL_SERVER_ERROR, reason.to_string()).into_response();
        Self { reason, response }
    }

    fn invalid_scopes(error: ScopeError) -> Self {
        tracing::error!(%error, "a RequiredScopes implementation lists an invalid scope");
        let reason = TokenRejectionReason::InvalidScopes;
        let response = (StatusCode::INTERNAL_SERVER_ERROR, reason.to_string()).into_response();
        Self { reason, response }
    }

    /// Why there is no token.
    pub fn reason(&self) -> &TokenRejectionReason {
        &self.reason
    }
}

impl fmt::Debug for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRejection").field("reason", &self.reason).field("status", &self.response.status()).finish()
    }
}

impl IntoResponse for TokenRejection {
    fn into_response(self) -> Response {
        self.response
    }
}
