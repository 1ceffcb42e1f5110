//! [`Bearer`]: the caller of a web API for a signed-in user, with a validated access token carrying the
//! required delegated scopes. Failures answer as RFC 6750 §3 says: 401 with `WWW-Authenticate: Bearer` (and
//! `error="invalid_token"` when a token was sent), 403 `insufficient_scope` naming the scopes, 400
//! `invalid_request`. The extractors for app-only callers are in `app_caller.rs`, with the same rejection.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::scope::required::RequiredScopes;
use crate::scope::set::ScopeSet;
use crate::web_api::error::BearerError;
use crate::web_api::protected_api::{ApiCaller, CallerKind, ProtectedApi};

/// The validated caller of an API route that requires `R`'s delegated scopes: a client app calling for a
/// signed-in user ([`CallerKind::Delegated`]). An app-only caller is refused (403) whatever `R` says: routes
/// that app-only callers may call take [`AppCaller`](crate::AppCaller) or [`UserOrApp`](crate::UserOrApp).
/// Needs `ProtectedApi: FromRef<S>` for the router's state `S` (see [`ProtectedApi`]).
pub struct Bearer<R: RequiredScopes> {
    caller: ApiCaller,
    scopes: PhantomData<fn() -> R>,
}

impl<R: RequiredScopes> Deref for Bearer<R> {
    type Target = ApiCaller;

    fn deref(&self) -> &ApiCaller {
        &self.caller
    }
}

impl<R: RequiredScopes> fmt::Debug for Bearer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Bearer").field(&self.caller).finish()
    }
}

/// Why an API request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerRejection {
    /// No `Authorization: Bearer` header.
    #[error("a bearer access token is required")]
    Missing,
    /// The `Authorization` header is not one `Bearer <token>`.
    #[error("the Authorization header is malformed")]
    MalformedHeader,
    /// The token is invalid.
    #[error("{0}")]
    InvalidToken(BearerError),
    /// The token lacks scopes.
    #[error("the access token lacks the scopes {required}")]
    InsufficientScope {
        /// The scopes the route requires.
        required: String,
    },
    /// An app-only caller lacks app roles (application permissions).
    #[error("the app lacks the app roles {required}")]
    InsufficientRoles {
        /// The app roles the route requires, space-separated.
        required: String,
    },
    /// The route does not accept this kind of caller: an app-only caller on a route for users ([`Bearer`]),
    /// or a user on a route for apps ([`AppCaller`](crate::AppCaller)).
    #[error("this route does not accept {found} callers")]
    CallerNotAccepted {
        /// Who called.
        found: CallerKind,
    },
    /// A [`RequiredScopes`] implementation lists an invalid scope.
    #[error("a RequiredScopes implementation lists an invalid scope")]
    InvalidScopes,
    /// A [`RequiredRoles`](crate::RequiredRoles) implementation lists no role, or an invalid one.
    #[error("a RequiredRoles implementation lists no role, or an empty role or one with whitespace")]
    InvalidRoles,
}

impl IntoResponse for BearerRejection {
    fn into_response(self) -> Response {
        let (status, challenge) = match &self {
            BearerRejection::Missing => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
            BearerRejection::MalformedHeader => {
                (StatusCode::BAD_REQUEST, "Bearer error=\"invalid_request\"".to_owned())
            }
            BearerRejection::InvalidToken(error) => {
                (StatusCode::UNAUTHORIZED, format!("Bearer error=\"invalid_token\", error_description=\"{error}\""))
            }
            BearerRejection::InsufficientScope { required } => {
                (StatusCode::FORBIDDEN, format!("Bearer error=\"insufficient_scope\", scope=\"{required}\""))
            }
            // App roles are granted by an administrator, never consented to by a user: no `scope` to ask for.
            BearerRejection::InsufficientRoles { .. } | BearerRejection::CallerNotAccepted { .. } => {
                (StatusCode::FORBIDDEN, format!("Bearer error=\"insufficient_scope\", error_description=\"{self}\""))
            }
            BearerRejection::InvalidScopes | BearerRejection::InvalidRoles => {
                tracing::error!(rejection = ?self.to_string(), "bearer tokens cannot be checked");
                return (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response();
            }
        };
        let mut response = (status, self.to_string()).into_response();
        let challenge = HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer"));
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        response
    }
}

impl<S, R> FromRequestParts<S> for Bearer<R>
where
    S: Send + Sync,
    R: RequiredScopes,
    ProtectedApi: FromRef<S>,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let required = ScopeSet::from_strs(R::SCOPES.iter().copied()).map_err(|_| BearerRejection::InvalidScopes)?;
        let caller = validated_caller(parts, &ProtectedApi::from_ref(state)).await?;
        if caller.kind() != CallerKind::Delegated {
            return Err(BearerRejection::CallerNotAccepted { found: caller.kind() });
        }
        if !caller.scopes().is_superset_of(&required) {
            return Err(BearerRejection::InsufficientScope { required: required.to_scope_string() });
        }
        Ok(Self { caller, scopes: PhantomData })
    }
}

/// The caller of a request with one valid `Authorization: Bearer` access token (RFC 6750 §2.1).
pub(crate) async fn validated_caller(parts: &Parts, api: &ProtectedApi) -> Result<ApiCaller, BearerRejection> {
    let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
    let (Some(header), None) = (headers.next(), headers.next()) else {
        return Err(if parts.headers.contains_key(AUTHORIZATION) {
            BearerRejection::MalformedHeader
        } else {
            BearerRejection::Missing
        });
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
        .ok_or(BearerRejection::MalformedHeader)?;
    api.validate(token).await.map_err(|error| {
        tracing::info!(error = ?error.to_string(), "bearer token refused");
        BearerRejection::InvalidToken(error)
    })
}
