//! [`ConfigError`]: what is wrong with a setting, naming the environment variable or builder method at fault.

use jsonwebtoken::Algorithm;

use crate::provider::authority::AuthorityError;
use crate::scope::set::ScopeError;
use crate::web::cookies::COOKIE_KEY_LEN;

/// A configuration error, naming the setting at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is absent or empty.
    #[error("{setting} is required")]
    Missing {
        /// The environment variable or builder method.
        setting: &'static str,
    },
    /// The authority is not a usable issuer URL.
    #[error("{setting}: {source}")]
    Authority {
        /// The environment variable or builder method.
        setting: &'static str,
        /// What is wrong with it.
        source: AuthorityError,
    },
    /// Not an absolute URL.
    #[error("{setting}: {value:?} is not an absolute URL: {source}")]
    Url {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The value given.
        value: String,
        /// Why it did not parse.
        source: url::ParseError,
    },
    /// A URL that must be https is plain http on a non-loopback host, or has a fragment.
    #[error("{setting}: {value:?} must be https without a fragment (plain http is for loopback development only)")]
    InsecureUrl {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The value given.
        value: String,
    },
    /// The redirect URI's path collides with a route the runtime mounts.
    #[error("{setting}: the callback path {path:?} is taken; use a path of its own such as /auth/callback")]
    CallbackPath {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The path.
        path: String,
    },
    /// The cookie key is not base64.
    #[error("{setting} is not valid base64 (generate a key with `openssl rand -base64 64`)")]
    CookieKeyEncoding {
        /// The environment variable or builder method.
        setting: &'static str,
    },
    /// The cookie key has the wrong length.
    #[error(
        "{setting} must decode to {COOKIE_KEY_LEN} bytes, found {found} (generate one with `openssl rand -base64 64`)"
    )]
    CookieKeyLength {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The decoded length.
        found: usize,
    },
    /// A scope is not a valid scope.
    #[error("{setting}: {source}")]
    Scope {
        /// The environment variable or builder method.
        setting: &'static str,
        /// What is wrong.
        source: ScopeError,
    },
    /// `openid`, `profile` or `offline_access` was listed; the runtime always adds them.
    #[error("{setting}: `{scope}` is always requested by the runtime; remove it")]
    ReservedScope {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The reserved scope.
        scope: String,
    },
    /// A value outside a fixed set of choices.
    #[error("{setting}: {value:?} is not one of {expected}")]
    Choice {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The value given.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
    /// Not a web origin (`https://host[:port]`, nothing after it).
    #[error("{setting}: {value:?} is not an origin such as `https://app.example.com`")]
    Origin {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The value given.
        value: String,
    },
    /// The token cache setting is not `memory`, a Redis URL, or a file path.
    #[error("{setting}: {reason} (expected `memory`, `redis://…`, `rediss://…`, or the embedded store's file path)")]
    TokenCache {
        /// The environment variable or builder method.
        setting: &'static str,
        /// What is wrong, without the value (a Redis URL may hold a password).
        reason: &'static str,
    },
    /// A store key is not base64 of 32 bytes.
    #[error("{setting}: key {position} is not base64 of 32 bytes (generate one with `openssl rand -base64 32`)")]
    StoreKey {
        /// The environment variable or builder method.
        setting: &'static str,
        /// Which key of the list, from 1.
        position: usize,
    },
    /// A sign-in setting was given to a runtime built
    /// [`without_sign_in`](crate::MsalConfigBuilder::without_sign_in).
    #[error("{setting} is a sign-in setting, and this runtime was built without_sign_in()")]
    SignInSettingWithoutSignIn {
        /// The environment variable or builder method.
        setting: &'static str,
    },
    /// A setting that a choice of store needs is missing.
    #[error("{setting} is required with {because}")]
    RequiredFor {
        /// The environment variable or builder method that is missing.
        setting: &'static str,
        /// The choice that needs it.
        because: &'static str,
    },
    /// A numeric setting is zero or out of range.
    #[error("{setting} must be greater than zero")]
    Zero {
        /// The environment variable or builder method.
        setting: &'static str,
    },
    /// An ID token algorithm that is not allowed (only RS256, PS256 and ES256 are).
    #[error("{setting}: {algorithm:?} is not an allowed ID token algorithm (RS256, PS256, ES256)")]
    Algorithm {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The algorithm.
        algorithm: Algorithm,
    },
}
