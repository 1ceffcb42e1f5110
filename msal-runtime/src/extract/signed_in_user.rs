//! [`SignedInUser`]: who is signed in, for handlers that need the user but no token.

use axum::Json;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde_json::json;

use crate::msal::SIGN_IN_PATH;
use crate::provider::account::HomeAccountId;

/// The signed-in user of this request. Extracting it fails with 401 when nobody is signed in;
/// use `Option<SignedInUser>` for pages that serve both.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    name: Option<String>,
    username: String,
    subject: String,
    home_account_id: HomeAccountId,
}

impl SignedInUser {
    /// The display name (`name` claim), when the provider sent one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The sign-in name (`preferred_username`, `upn` or `email`); empty when the provider sent none.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `sub` claim: the user's id at the provider.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The key of the user's token-cache partition (MSAL's home account id).
    pub fn home_account_id(&self) -> &HomeAccountId {
        &self.home_account_id
    }
}

/// Why there is no [`SignedInUser`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignInRequired {
    /// No session, or it expired.
    #[error("not signed in")]
    NotSignedIn,
    /// `Msal::layer()` does not wrap this route: a programming error, reported as such.
    #[error("can't extract the signed-in user: is `Msal::layer()` installed on this router?")]
    LayerMissing,
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        match self {
            SignInRequired::NotSignedIn => {
                (StatusCode::UNAUTHORIZED, Json(json!({ "error": "not_signed_in", "sign_in_url": SIGN_IN_PATH })))
                    .into_response()
            }
            SignInRequired::LayerMissing => {
                tracing::error!("{self}");
                (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedInUser {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        let msal = super::msal(parts).ok_or(SignInRequired::LayerMissing)?;
        Ok(msal.session(&parts.headers).map(|(_, record)| {
            let account = &record.account;
            SignedInUser {
                name: account.name.clone(),
                username: account.username.clone(),
                subject: account.subject.clone(),
                home_account_id: account.home_account_id.clone(),
            }
        }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedInUser {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Self as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await?
            .ok_or(SignInRequired::NotSignedIn)
    }
}
