//! [`ScopedToken`]: what `#[requires_scopes]` rewrites a `token: AccessToken` parameter to. Hidden: apps
//! write [`AccessTokenFor`] by hand, which has no fields or type parameters that only the macro needs.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use crate::acquire::access_token::AccessToken;
use crate::extract::access_token_for::AccessTokenFor;
use crate::extract::rejection::AccessTokenForRejection;
use crate::msal::Msal;
use crate::scope::required::RequiredScopes;

/// [`AccessTokenFor<R>`] as a tuple struct, so that the handler's own pattern binds the token:
/// `ScopedToken(token, _): ScopedToken<Marker, AccessToken>`. `T` is always [`AccessToken`]; the macro spells
/// it as the handler did, so that the handler's `use` of `AccessToken` stays used.
#[doc(hidden)]
#[derive(Debug)]
pub struct ScopedToken<R, T = AccessToken>(pub T, pub PhantomData<fn() -> R>);

impl<S, R> FromRequestParts<S> for ScopedToken<R, AccessToken>
where
    S: Send + Sync,
    R: RequiredScopes,
    Msal: FromRef<S>,
{
    type Rejection = AccessTokenForRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = AccessTokenFor::<R>::from_request_parts(parts, state).await?;
        Ok(Self(token.into_token(), PhantomData))
    }
}
