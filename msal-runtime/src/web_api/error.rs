//! The web-API side's errors: why a [`ProtectedApi`](crate::ProtectedApi) could not start, and why a bearer
//! token was refused.

use crate::provider::authority::{AuthorityError, IssuerMismatch};
use crate::provider::discovery::DiscoveryError;

/// Why [`ProtectedApi::new`](crate::ProtectedApi::new) could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectedApiError {
    /// The authority is not a usable issuer URL.
    #[error("authority: {0}")]
    Authority(#[source] AuthorityError),
    /// No audience was given: every token would be refused.
    #[error("audiences: name at least one audience the API's tokens are issued for")]
    NoAudience,
    /// The provider's metadata or keys are unusable or unreachable.
    #[error("identity provider: {0}")]
    Discovery(#[from] DiscoveryError),
    /// The HTTP client could not be created (TLS set-up).
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// Why a bearer token was refused (RFC 6750 §3.1 `invalid_token`, with the detail for logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// Not a JWS, or claims of the wrong shape.
    #[error("the access token is malformed")]
    Malformed,
    /// `alg` not allowed, unknown key, or a bad signature.
    #[error("the access token's signature is not valid")]
    Signature,
    /// `typ` says it is not an access token.
    #[error("the token is not an access token")]
    NotAnAccessToken,
    /// A required claim is absent.
    #[error("the access token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// Issued by someone else.
    #[error("the access token's issuer is not trusted: {0}")]
    Issuer(IssuerMismatch),
    /// Not issued for this API.
    #[error("the access token is not for this API")]
    Audience,
    /// Expired, or not valid yet.
    #[error("the access token has expired or is not valid yet")]
    Lifetime,
    /// Entra: `ver` is neither `1.0` nor `2.0`.
    #[error("the access token's version (`ver`) is neither 1.0 nor 2.0")]
    Version,
    /// Entra's `idtyp` is unknown, or says `app` beside delegated scopes: whether a user or an app is calling
    /// cannot be told.
    #[error("the access token does not say consistently whether a user or an app is calling (`idtyp`)")]
    CallerKind,
}
