//! [`AccessTokenFor`]: an access token for the signed-in user and a scope set, or the rejection that says why
//! there is none (by default, the response that gets one).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::AcquireError;
use crate::extract::cross_origin::is_refused_cross_origin;
use crate::extract::interaction::{interaction_required, sign_in_required};
use crate::extract::rejection::AccessTokenForRejection;
use crate::extract::request_kind::RequestKind;
use crate::msal::Msal;
use crate::scope::required::{RequiredScopes, scopes_of};
use crate::scope::set::ScopeSet;

/// Extracts a valid access token of the signed-in user for `R`'s scopes.
///
/// From the cache when possible (a hash lookup), by refreshing otherwise; when neither works the request is
/// rejected with [`AccessTokenForRejection`], whose default answer gets the token: a page load goes to the
/// provider to sign in or consent and comes back, a `fetch()` gets a 401 with a consent URL, a form POST comes
/// back to its form page. Needs `Msal: FromRef<S>` for the router's state `S` (see [`Msal`]).
///
/// ```
/// use msal_runtime::{AccessTokenFor, Msal, RequiredScopes};
///
/// struct MailSend;
/// impl RequiredScopes for MailSend {
///     const SCOPES: &'static [&'static str] = &["Mail.Send"];
/// }
///
/// async fn send(token: AccessTokenFor<MailSend>) -> &'static str {
///     let _bearer = token.authorization_header(); // call the API with it
///     "sent"
/// }
/// # let _ = axum::routing::post::<_, _, Msal>(send);
/// ```
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

impl<S, R> FromRequestParts<S> for AccessTokenFor<R>
where
    S: Send + Sync,
    R: RequiredScopes,
    Msal: FromRef<S>,
{
    type Rejection = AccessTokenForRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let scopes = scopes_of::<R>().map_err(|error| {
            tracing::error!(error = ?error.to_string(), "a RequiredScopes implementation lists an invalid scope");
            AccessTokenForRejection::InvalidScopes(error)
        })?;
        let token = token_for_request(&Msal::from_ref(state), parts, scopes).await?;
        Ok(Self { token: token.for_scopes(scopes), scopes: PhantomData })
    }
}

/// A token for `scopes` (without reserved scopes) for the request's user, or why there is none.
async fn token_for_request(
    msal: &Msal,
    parts: &Parts,
    scopes: &ScopeSet,
) -> Result<AccessToken, AccessTokenForRejection> {
    if is_refused_cross_origin(msal, parts) {
        tracing::warn!(method = ?parts.method.as_str(), path = ?parts.uri.path(), "refused a request from another origin");
        return Err(AccessTokenForRejection::CrossOrigin {
            request_kind: RequestKind::of(&parts.method, &parts.headers),
        });
    }
    let session = match msal.sessions().record(&parts.headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return Err(AccessTokenForRejection::SignInRequired(sign_in_required(msal, parts, scopes))),
        Err(error) => {
            let request_kind = RequestKind::of(&parts.method, &parts.headers);
            return Err(AccessTokenForRejection::CacheUnavailable { request_kind, error });
        }
    };
    let home_account_id = &session.account.home_account_id;
    let error = match msal.acquisition().acquire(home_account_id, scopes).await {
        Ok(token) => return Ok(token),
        Err(error) => error,
    };
    let request_kind = RequestKind::of(&parts.method, &parts.headers);
    let rejection = match error {
        AcquireError::InteractionRequired(required) => {
            let reason = required.reason;
            if let Some(interaction) = interaction_required(msal, parts, scopes, &session, required).await {
                return Err(AccessTokenForRejection::InteractionRequired(interaction));
            }
            tracing::warn!(
                home_account_id = ?home_account_id, scopes = ?scopes, reason = ?reason,
                "interaction just completed but the token is still unavailable; not sending the user round again"
            );
            return Err(AccessTokenForRejection::InteractionDidNotHelp {
                request_kind,
                scopes: scopes.clone(),
                reason,
            });
        }
        AcquireError::ProviderUnavailable { retry_after } => {
            AccessTokenForRejection::ProviderUnavailable { request_kind, retry_after }
        }
        AcquireError::Refused(error) => AccessTokenForRejection::ProviderRefused { request_kind, error },
        AcquireError::InvalidResponse(error) => {
            AccessTokenForRejection::InvalidProviderResponse { request_kind, error }
        }
        AcquireError::Cache(error) => AccessTokenForRejection::CacheUnavailable { request_kind, error },
    };
    tracing::warn!(home_account_id = ?home_account_id, reason = ?rejection.to_string(), "no token for the request");
    Err(rejection)
}
