//! [`SignedInUser`]: who is signed in, for handlers that need the user but no token.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use crate::extract::cross_origin::is_refused_cross_origin;
use crate::extract::rejection::SignedInUserRejection;
use crate::extract::request_kind::RequestKind;
use crate::msal::Msal;
use crate::provider::account::HomeAccountId;

/// The signed-in user of this request. Extracting it fails with [`SignedInUserRejection`] (by default 401)
/// when nobody is signed in, or 503 when the shared session store is down; use `Option<SignedInUser>` for pages that serve both. Needs `Msal: FromRef<S>`
/// for the router's state `S` (see [`Msal`]).
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

/// The signed-in user of the request; `Err(CrossOrigin)` when it may change something and comes from another
/// origin.
async fn signed_in_user(msal: &Msal, parts: &Parts) -> Result<Option<SignedInUser>, SignedInUserRejection> {
    if is_refused_cross_origin(msal, parts) {
        tracing::warn!(method = ?parts.method.as_str(), path = ?parts.uri.path(), "refused a request from another origin");
        return Err(SignedInUserRejection::CrossOrigin);
    }
    let record = msal.sessions().record(&parts.headers).await.map_err(|_| {
        SignedInUserRejection::SessionUnavailable { request_kind: RequestKind::of(&parts.method, &parts.headers) }
    })?;
    Ok(record.map(|record| {
        let account = &record.account;
        SignedInUser {
            name: account.name.clone(),
            username: account.username.clone(),
            subject: account.subject.clone(),
            home_account_id: account.home_account_id.clone(),
        }
    }))
}

/// `Option<SignedInUser>`: a request from another origin that may change something counts as signed out, so
/// a handler serving both cannot act for the user on another site's behalf. It fails only when the shared
/// session store is down ([`SignedInUserRejection::SessionUnavailable`]): a signed-in user is not shown the
/// signed-out page.
impl<S> OptionalFromRequestParts<S> for SignedInUser
where
    S: Send + Sync,
    Msal: FromRef<S>,
{
    type Rejection = SignedInUserRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        match signed_in_user(&Msal::from_ref(state), parts).await {
            Err(SignedInUserRejection::CrossOrigin) => Ok(None),
            found => found,
        }
    }
}

impl<S> FromRequestParts<S> for SignedInUser
where
    S: Send + Sync,
    Msal: FromRef<S>,
{
    type Rejection = SignedInUserRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        signed_in_user(&Msal::from_ref(state), parts).await?.ok_or(SignedInUserRejection::NotSignedIn)
    }
}
