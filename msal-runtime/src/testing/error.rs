//! [`TestingError`]: why a test's set-up failed.

use crate::cache::store::StoreError;
use crate::msal::MsalError;
use crate::scope::set::ScopeError;

/// Why [`TestMsal`](crate::testing::TestMsal) could not start or do what a test asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// The runtime did not start over the in-memory provider (a setting changed by
    /// [`TestMsal::with_config`](crate::testing::TestMsal::with_config) is invalid, say).
    #[error("the test runtime did not start: {0}")]
    Start(#[from] MsalError),
    /// The in-process token endpoint could not listen on a loopback port.
    #[error("the in-memory provider's token endpoint cannot listen on loopback: {0}")]
    Listen(#[source] std::io::Error),
    /// The scopes are not a valid space-separated scope list.
    #[error("{scopes:?} are not valid scopes: {source}")]
    Scopes {
        /// As given.
        scopes: String,
        /// Why.
        source: ScopeError,
    },
    /// No scope besides `openid`, `profile` and `offline_access`, which no access token is for.
    #[error("{scopes:?} names no scope an access token is for")]
    NoResourceScope {
        /// As given.
        scopes: String,
    },
    /// A token that is empty or holds characters a bearer token cannot (RFC 6750 §2.1): the runtime refuses
    /// such a token from a real provider too.
    #[error("an access token must be visible ASCII and not empty (RFC 6750 §2.1)")]
    MalformedToken,
    /// A subject an ID token could not carry: empty, longer than 255 characters or not ASCII (OpenID
    /// Connect Core §2), which the runtime refuses from a real provider too.
    #[error("{subject:?} is not a valid subject: 1 to 255 ASCII characters")]
    InvalidSubject {
        /// As given.
        subject: String,
    },
    /// The in-memory provider could not be trusted by a `ProtectedApi`.
    #[error("{0}")]
    ProtectedApi(#[from] crate::web_api::error::ProtectedApiError),
    /// Writing the session or the token cache failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}
