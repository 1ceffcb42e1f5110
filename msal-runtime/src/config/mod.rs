//! Settings: environment loading, a builder, and secure defaults, each documented where it is set.
//!
//! Every setting is validated once, here, at start-up; an error names the environment variable (or builder
//! method) and says what is wrong, so that a misconfigured app stops before it serves a request.

use std::num::NonZeroUsize;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::Algorithm;
use url::Url;

use crate::provider::authority::{Authority, AuthorityError, is_loopback};
use crate::provider::id_token::DEFAULT_ALGORITHMS;
use crate::provider::token_endpoint::{ClientAssertionKey, ClientSecret};
use crate::scope::set::{Scope, ScopeError, ScopeSet};

/// Length of `MSAL_COOKIE_KEY` once base64-decoded: 32 bytes to sign and 32 to encrypt.
pub const COOKIE_KEY_LEN: usize = 64;

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
    /// A token cache store this version cannot provide.
    #[error(
        "{setting}={value:?}: only the in-memory token cache (unset or `memory`) is available in this version; \
         the Redis and embedded stores are not implemented yet"
    )]
    UnsupportedTokenCache {
        /// The environment variable or builder method.
        setting: &'static str,
        /// The value given.
        value: String,
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

/// How the authorization response comes back (OAuth 2.0 Multiple Response Type Encoding Practices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `GET redirect_uri?code=…&state=…` (the default).
    #[default]
    Query,
    /// `POST redirect_uri` with the parameters in a form body: the code never appears in a URL.
    FormPost,
}

/// Client authentication with a secret (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` (the default when the provider lists it, as RFC 6749 requires it).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// Which token cache store to use (`MSAL_TOKEN_CACHE`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCacheSetting {
    /// In process memory, bounded (the default).
    Memory,
}

#[derive(Debug, Clone)]
pub(crate) enum CredentialSetting {
    Secret { secret: ClientSecret, method: Option<ClientAuthMethod> },
    PrivateKeyJwt(ClientAssertionKey),
}

/// The validated configuration of [`Msal`](crate::Msal).
#[derive(Debug, Clone)]
pub struct MsalConfig {
    pub(crate) authority: Authority,
    pub(crate) client_id: String,
    pub(crate) credential: CredentialSetting,
    pub(crate) redirect_uri: Url,
    pub(crate) cookie_key: Option<cookie::Key>,
    pub(crate) token_cache: TokenCacheSetting,
    pub(crate) initial_scopes: ScopeSet,
    pub(crate) response_mode: ResponseMode,
    pub(crate) post_logout_redirect_uri: Url,
    pub(crate) secure_cookies: bool,
    pub(crate) clock_skew: Duration,
    pub(crate) http_timeout: Duration,
    pub(crate) id_token_algorithms: Vec<Algorithm>,
    pub(crate) jwks_min_refetch_interval: Duration,
    pub(crate) jwks_max_age: Duration,
    pub(crate) session_idle_timeout: Duration,
    pub(crate) session_absolute_timeout: Duration,
    pub(crate) max_sessions: NonZeroUsize,
    pub(crate) sign_in_timeout: Duration,
    pub(crate) max_pending_sign_ins_per_browser: NonZeroUsize,
    pub(crate) max_pending_sign_ins: NonZeroUsize,
    pub(crate) max_cached_users: NonZeroUsize,
    pub(crate) token_cache_lifetime: Duration,
    pub(crate) handler_scopes_at_sign_in: bool,
    pub(crate) declared_scopes: Option<ScopeSet>,
}

impl MsalConfig {
    /// A builder, for configuration in code. Required: `authority`, `client_id`, `redirect_uri` and a
    /// credential (`client_secret` or `client_assertion_key`).
    pub fn builder() -> MsalConfigBuilder {
        MsalConfigBuilder::default()
    }

    /// Reads the configuration from the environment:
    ///
    /// | variable | |
    /// |---|---|
    /// | `MSAL_AUTHORITY` | issuer URL; `https://login.microsoftonline.com/<tenant>/v2.0` means Entra ID |
    /// | `MSAL_CLIENT_ID` | the app's client id |
    /// | `MSAL_CLIENT_SECRET` | the app's client secret |
    /// | `MSAL_REDIRECT_URI` | full callback URL; the callback is mounted at its path |
    /// | `MSAL_COOKIE_KEY` | optional: base64 of 64 random bytes; instances sharing a store share it |
    /// | `MSAL_TOKEN_CACHE` | optional: unset or `memory` |
    /// | `MSAL_SCOPES` | optional: space-separated scopes to ask for at sign-in |
    /// | `MSAL_CLIENT_AUTH_METHOD` | optional: `client_secret_basic` or `client_secret_post` |
    /// | `MSAL_RESPONSE_MODE` | optional: `query` (default) or `form_post` |
    /// | `MSAL_POST_LOGOUT_REDIRECT_URI` | optional: where the provider sends the user after sign-out |
    /// | `MSAL_DECLARED_SCOPES` | optional: the scopes the app registration has; others used by handlers are warned about |
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut builder = MsalConfigBuilder { from_env: true, ..MsalConfigBuilder::default() };
        builder.authority = var("MSAL_AUTHORITY");
        builder.client_id = var("MSAL_CLIENT_ID");
        builder.client_secret = var("MSAL_CLIENT_SECRET").map(ClientSecret::new);
        builder.redirect_uri = var("MSAL_REDIRECT_URI");
        builder.cookie_key = var("MSAL_COOKIE_KEY").map(KeyInput::Base64);
        builder.token_cache = var("MSAL_TOKEN_CACHE");
        builder.post_logout_redirect_uri = var("MSAL_POST_LOGOUT_REDIRECT_URI");
        if let Some(scopes) = var("MSAL_DECLARED_SCOPES") {
            builder.declared_scopes = Some(scopes.split_whitespace().map(str::to_owned).collect());
        }
        if let Some(scopes) = var("MSAL_SCOPES") {
            builder.initial_scopes = scopes.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(method) = var("MSAL_CLIENT_AUTH_METHOD") {
            builder.client_auth_method = Some(match method.as_str() {
                "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
                "client_secret_post" => ClientAuthMethod::ClientSecretPost,
                _ => {
                    return Err(ConfigError::Choice {
                        setting: "MSAL_CLIENT_AUTH_METHOD",
                        value: method,
                        expected: "client_secret_basic, client_secret_post",
                    });
                }
            });
        }
        if let Some(mode) = var("MSAL_RESPONSE_MODE") {
            builder.response_mode = match mode.as_str() {
                "query" => ResponseMode::Query,
                "form_post" => ResponseMode::FormPost,
                _ => {
                    return Err(ConfigError::Choice {
                        setting: "MSAL_RESPONSE_MODE",
                        value: mode,
                        expected: "query, form_post",
                    });
                }
            };
        }
        builder.build()
    }

    /// The callback path (the path of the redirect URI).
    pub fn callback_path(&self) -> &str {
        self.redirect_uri.path()
    }

    /// The configured authority.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }
}

#[derive(Debug, Clone)]
enum KeyInput {
    Base64(String),
    Bytes(Vec<u8>),
}

/// Builds an [`MsalConfig`]; every method documents its default.
#[derive(Debug, Clone)]
pub struct MsalConfigBuilder {
    from_env: bool,
    authority: Option<String>,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    client_auth_method: Option<ClientAuthMethod>,
    client_assertion_key: Option<ClientAssertionKey>,
    redirect_uri: Option<String>,
    cookie_key: Option<KeyInput>,
    token_cache: Option<String>,
    initial_scopes: Vec<String>,
    response_mode: ResponseMode,
    post_logout_redirect_uri: Option<String>,
    clock_skew: Duration,
    http_timeout: Duration,
    id_token_algorithms: Vec<Algorithm>,
    jwks_min_refetch_interval: Duration,
    jwks_max_age: Duration,
    session_idle_timeout: Duration,
    session_absolute_timeout: Duration,
    max_sessions: usize,
    sign_in_timeout: Duration,
    max_pending_sign_ins_per_browser: usize,
    max_pending_sign_ins: usize,
    max_cached_users: usize,
    token_cache_lifetime: Duration,
    handler_scopes_at_sign_in: bool,
    declared_scopes: Option<Vec<String>>,
}

impl Default for MsalConfigBuilder {
    fn default() -> Self {
        Self {
            from_env: false,
            authority: None,
            client_id: None,
            client_secret: None,
            client_auth_method: None,
            client_assertion_key: None,
            redirect_uri: None,
            cookie_key: None,
            token_cache: None,
            initial_scopes: Vec::new(),
            response_mode: ResponseMode::Query,
            post_logout_redirect_uri: None,
            clock_skew: Duration::from_secs(120),
            http_timeout: Duration::from_secs(10),
            id_token_algorithms: DEFAULT_ALGORITHMS.to_vec(),
            jwks_min_refetch_interval: Duration::from_secs(60),
            jwks_max_age: Duration::from_secs(24 * 3600),
            session_idle_timeout: Duration::from_secs(2 * 3600),
            session_absolute_timeout: Duration::from_secs(24 * 3600),
            max_sessions: 100_000,
            sign_in_timeout: Duration::from_secs(15 * 60),
            max_pending_sign_ins_per_browser: 10,
            max_pending_sign_ins: 100_000,
            max_cached_users: 100_000,
            token_cache_lifetime: Duration::from_secs(90 * 24 * 3600),
            handler_scopes_at_sign_in: false,
            declared_scopes: None,
        }
    }
}

impl MsalConfigBuilder {
    /// The issuer URL, or an Entra authority `https://login.microsoftonline.com/<tenant>/v2.0`. Required.
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// The app's client id. Required.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The client secret. Required unless [`client_assertion_key`](Self::client_assertion_key) is set.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(ClientSecret::new(secret));
        self
    }

    /// How the secret is sent. Default: `client_secret_basic` when the provider's discovery document lists
    /// it (or lists nothing), else `client_secret_post`.
    pub fn client_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.client_auth_method = Some(method);
        self
    }

    /// Authenticate with `private_key_jwt` instead of a secret.
    pub fn client_assertion_key(mut self, key: ClientAssertionKey) -> Self {
        self.client_assertion_key = Some(key);
        self
    }

    /// The full redirect URI registered with the provider; the callback is mounted at its path. Required;
    /// https unless the host is loopback. Cookies are `Secure` unless it is plain-http loopback.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// 64 random bytes that sign and encrypt the cookies. Default: a fresh key per process, so sessions do
    /// not survive a restart or span instances (which the in-memory stores do not either).
    pub fn cookie_key(mut self, key: [u8; COOKIE_KEY_LEN]) -> Self {
        self.cookie_key = Some(KeyInput::Bytes(key.to_vec()));
        self
    }

    /// Scopes asked for at sign-in besides `openid profile offline_access`. Default: none.
    pub fn initial_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.initial_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Default: [`ResponseMode::Query`].
    pub fn response_mode(mut self, mode: ResponseMode) -> Self {
        self.response_mode = mode;
        self
    }

    /// Where the provider returns the browser after sign-out; must be registered with it.
    /// Default: the site root of the redirect URI.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uri = Some(uri.into());
        self
    }

    /// Tolerated clock difference when checking token times. Default: 2 minutes.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Timeout of every call to the provider. Default: 10 seconds.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// ID token algorithms accepted (a subset of RS256, PS256, ES256). Default: all three.
    pub fn id_token_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.id_token_algorithms = algorithms.into_iter().collect();
        self
    }

    /// Minimum time between two JWKS fetches triggered by unknown `kid`s. Default: 60 seconds.
    pub fn jwks_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks_min_refetch_interval = interval;
        self
    }

    /// A session unused for this long ends. Default: 2 hours.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = timeout;
        self
    }

    /// A session ends this long after sign-in, used or not. Default: 24 hours.
    pub fn session_absolute_timeout(mut self, timeout: Duration) -> Self {
        self.session_absolute_timeout = timeout;
        self
    }

    /// Sessions kept at most; the least recently used goes first. Default: 100,000.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// How long a started sign-in may take to come back. Default: 15 minutes.
    pub fn sign_in_timeout(mut self, timeout: Duration) -> Self {
        self.sign_in_timeout = timeout;
        self
    }

    /// Sign-ins one browser may have pending (several tabs); the oldest is dropped beyond it. Default: 10.
    pub fn max_pending_sign_ins_per_browser(mut self, max: usize) -> Self {
        self.max_pending_sign_ins_per_browser = max;
        self
    }

    /// Users whose tokens the in-memory cache keeps; the least recently used goes first. Default: 100,000.
    pub fn max_cached_users(mut self, max: usize) -> Self {
        self.max_cached_users = max;
        self
    }

    /// Ask at sign-in for the scopes of every `#[requires_scopes]` handler, so that users consent once.
    /// Default: off (incremental consent). On Entra, only for apps whose handlers call one resource.
    pub fn request_handler_scopes_at_sign_in(mut self, enabled: bool) -> Self {
        self.handler_scopes_at_sign_in = enabled;
        self
    }

    /// The scopes the app registration has (its API permissions). At start-up, any scope of a
    /// `#[requires_scopes]` handler that is not among them is logged as a warning. Default: not checked.
    pub fn declared_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.declared_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    fn setting(&self, env: &'static str, method: &'static str) -> &'static str {
        if self.from_env { env } else { method }
    }

    /// Validates everything and builds the configuration.
    pub fn build(self) -> Result<MsalConfig, ConfigError> {
        let authority_setting = self.setting("MSAL_AUTHORITY", "authority");
        let authority = self.authority.as_deref().ok_or(ConfigError::Missing { setting: authority_setting })?;
        let authority = Authority::parse(authority)
            .map_err(|source| ConfigError::Authority { setting: authority_setting, source })?;

        let client_id = self
            .client_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or(ConfigError::Missing { setting: self.setting("MSAL_CLIENT_ID", "client_id") })?;

        let credential = match (&self.client_assertion_key, &self.client_secret) {
            (Some(key), _) => CredentialSetting::PrivateKeyJwt(key.clone()),
            (None, Some(secret)) => {
                CredentialSetting::Secret { secret: secret.clone(), method: self.client_auth_method }
            }
            (None, None) => {
                return Err(ConfigError::Missing { setting: self.setting("MSAL_CLIENT_SECRET", "client_secret") });
            }
        };

        let redirect_setting = self.setting("MSAL_REDIRECT_URI", "redirect_uri");
        let redirect_uri = self.redirect_uri.as_deref().ok_or(ConfigError::Missing { setting: redirect_setting })?;
        let redirect_uri = secure_url(redirect_setting, redirect_uri)?;
        let path = redirect_uri.path();
        if matches!(path, "/" | crate::SIGN_IN_PATH | crate::SIGN_OUT_PATH) {
            return Err(ConfigError::CallbackPath { setting: redirect_setting, path: path.to_owned() });
        }
        let secure_cookies = redirect_uri.scheme() == "https";

        let post_logout_setting = self.setting("MSAL_POST_LOGOUT_REDIRECT_URI", "post_logout_redirect_uri");
        let post_logout_redirect_uri = match &self.post_logout_redirect_uri {
            Some(uri) => secure_url(post_logout_setting, uri)?,
            None => redirect_uri.join("/").expect("the root of an absolute URL is a URL"),
        };

        let cookie_setting = self.setting("MSAL_COOKIE_KEY", "cookie_key");
        let cookie_key = match &self.cookie_key {
            None => None,
            Some(input) => {
                let bytes = match input {
                    KeyInput::Base64(text) => {
                        STANDARD.decode(text).map_err(|_| ConfigError::CookieKeyEncoding { setting: cookie_setting })?
                    }
                    KeyInput::Bytes(bytes) => bytes.clone(),
                };
                if bytes.len() != COOKIE_KEY_LEN {
                    return Err(ConfigError::CookieKeyLength { setting: cookie_setting, found: bytes.len() });
                }
                Some(cookie::Key::from(&bytes))
            }
        };

        let cache_setting = self.setting("MSAL_TOKEN_CACHE", "token_cache");
        let token_cache = match self.token_cache.as_deref() {
            None | Some("memory") => TokenCacheSetting::Memory,
            Some(other) => {
                return Err(ConfigError::UnsupportedTokenCache { setting: cache_setting, value: other.to_owned() });
            }
        };

        let scopes_setting = self.setting("MSAL_SCOPES", "initial_scopes");
        let mut initial_scopes = ScopeSet::new();
        for value in &self.initial_scopes {
            let scope = Scope::new(value).map_err(|source| ConfigError::Scope { setting: scopes_setting, source })?;
            if scope.is_reserved() {
                return Err(ConfigError::ReservedScope { setting: scopes_setting, scope: value.clone() });
            }
            initial_scopes.insert(scope);
        }

        let declared_setting = self.setting("MSAL_DECLARED_SCOPES", "declared_scopes");
        let declared_scopes = match &self.declared_scopes {
            None => None,
            Some(scopes) => Some(
                ScopeSet::from_strs(scopes.iter().map(String::as_str))
                    .map_err(|source| ConfigError::Scope { setting: declared_setting, source })?,
            ),
        };

        let algorithms_setting = "id_token_algorithms";
        if self.id_token_algorithms.is_empty() {
            return Err(ConfigError::Missing { setting: algorithms_setting });
        }
        if let Some(algorithm) = self.id_token_algorithms.iter().find(|alg| !DEFAULT_ALGORITHMS.contains(alg)) {
            return Err(ConfigError::Algorithm { setting: algorithms_setting, algorithm: *algorithm });
        }

        let non_zero = |value: usize, setting| NonZeroUsize::new(value).ok_or(ConfigError::Zero { setting });
        Ok(MsalConfig {
            authority,
            client_id,
            credential,
            redirect_uri,
            cookie_key,
            token_cache,
            initial_scopes,
            response_mode: self.response_mode,
            post_logout_redirect_uri,
            secure_cookies,
            clock_skew: self.clock_skew,
            http_timeout: self.http_timeout,
            id_token_algorithms: self.id_token_algorithms,
            jwks_min_refetch_interval: self.jwks_min_refetch_interval,
            jwks_max_age: self.jwks_max_age,
            session_idle_timeout: self.session_idle_timeout,
            session_absolute_timeout: self.session_absolute_timeout,
            max_sessions: non_zero(self.max_sessions, "max_sessions")?,
            sign_in_timeout: self.sign_in_timeout,
            max_pending_sign_ins_per_browser: non_zero(
                self.max_pending_sign_ins_per_browser,
                "max_pending_sign_ins_per_browser",
            )?,
            max_pending_sign_ins: non_zero(self.max_pending_sign_ins, "max_pending_sign_ins")?,
            max_cached_users: non_zero(self.max_cached_users, "max_cached_users")?,
            token_cache_lifetime: self.token_cache_lifetime,
            handler_scopes_at_sign_in: self.handler_scopes_at_sign_in,
            declared_scopes,
        })
    }
}

/// An absolute URL that is https, or plain http on loopback; never with a fragment (RFC 6749 §3.1.2).
fn secure_url(setting: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|source| ConfigError::Url { setting, value: value.to_owned(), source })?;
    let transport_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !transport_ok || url.fragment().is_some() {
        return Err(ConfigError::InsecureUrl { setting, value: value.to_owned() });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<MsalConfig, ConfigError> {
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        MsalConfig::from_lookup(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 4] = [
        ("MSAL_AUTHORITY", "https://login.microsoftonline.com/common/v2.0"),
        ("MSAL_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("MSAL_CLIENT_SECRET", "s3cret"),
        ("MSAL_REDIRECT_URI", "https://app.example/auth/callback"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Result<MsalConfig, ConfigError> {
        let mut pairs: Vec<_> = BASE.to_vec();
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, value));
        }
        env(&pairs)
    }

    #[test]
    fn reads_the_contract_variables() {
        let config = env(&BASE).unwrap();
        assert!(config.authority.is_entra());
        assert_eq!(config.callback_path(), "/auth/callback");
        assert!(config.secure_cookies);
        assert_eq!(config.post_logout_redirect_uri.as_str(), "https://app.example/");
        assert_eq!(config.token_cache, TokenCacheSetting::Memory);
        assert!(config.cookie_key.is_none());
        // The secret never shows in Debug output.
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn names_the_missing_variable() {
        for name in ["MSAL_AUTHORITY", "MSAL_CLIENT_ID", "MSAL_CLIENT_SECRET", "MSAL_REDIRECT_URI"] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(n, _)| *n != name).collect();
            let error = env(&pairs).unwrap_err();
            assert_eq!(error.to_string(), format!("{name} is required"));
        }
        let error = with(&[("MSAL_CLIENT_ID", "  ")]).unwrap_err();
        assert_eq!(error.to_string(), "MSAL_CLIENT_ID is required");
    }

    #[test]
    fn explains_bad_values() {
        let cases: [(&str, &str, &str); 10] = [
            (
                "MSAL_AUTHORITY",
                "login.microsoftonline.com/common",
                "MSAL_AUTHORITY: \"login.microsoftonline.com/common\" is not a URL",
            ),
            ("MSAL_AUTHORITY", "http://idp.example", "MSAL_AUTHORITY: \"http://idp.example\" must use https"),
            (
                "MSAL_REDIRECT_URI",
                "http://app.example/cb",
                "MSAL_REDIRECT_URI: \"http://app.example/cb\" must be https",
            ),
            (
                "MSAL_REDIRECT_URI",
                "https://app.example/cb#x",
                "MSAL_REDIRECT_URI: \"https://app.example/cb#x\" must be https",
            ),
            ("MSAL_REDIRECT_URI", "/auth/callback", "MSAL_REDIRECT_URI: \"/auth/callback\" is not an absolute URL"),
            (
                "MSAL_REDIRECT_URI",
                "https://app.example/auth/signin",
                "MSAL_REDIRECT_URI: the callback path \"/auth/signin\" is taken",
            ),
            ("MSAL_COOKIE_KEY", "not base64!", "MSAL_COOKIE_KEY is not valid base64"),
            ("MSAL_COOKIE_KEY", "c2hvcnQ=", "MSAL_COOKIE_KEY must decode to 64 bytes, found 5"),
            (
                "MSAL_TOKEN_CACHE",
                "redis://127.0.0.1:6379",
                "MSAL_TOKEN_CACHE=\"redis://127.0.0.1:6379\": only the in-memory",
            ),
            ("MSAL_SCOPES", "Mail.Read openid", "MSAL_SCOPES: `openid` is always requested by the runtime"),
        ];
        for (name, value, expected) in cases {
            let error = with(&[(name, value)]).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{name}={value:?}: {error}");
        }
        let error = with(&[("MSAL_RESPONSE_MODE", "fragment")]).unwrap_err().to_string();
        assert_eq!(error, "MSAL_RESPONSE_MODE: \"fragment\" is not one of query, form_post");
    }

    #[test]
    fn loopback_http_is_development_and_gets_plain_cookies() {
        let config = with(&[
            ("MSAL_AUTHORITY", "http://127.0.0.1:4000"),
            ("MSAL_REDIRECT_URI", "http://127.0.0.1:3000/auth/callback"),
            (
                "MSAL_COOKIE_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
            ),
            ("MSAL_SCOPES", "Mail.Read  Mail.Send"),
            ("MSAL_RESPONSE_MODE", "form_post"),
            ("MSAL_CLIENT_AUTH_METHOD", "client_secret_post"),
        ])
        .unwrap();
        assert!(!config.secure_cookies);
        assert!(config.cookie_key.is_some());
        assert_eq!(config.initial_scopes, ScopeSet::parse("Mail.Read Mail.Send").unwrap());
        assert_eq!(config.response_mode, ResponseMode::FormPost);
        assert!(matches!(
            config.credential,
            CredentialSetting::Secret { method: Some(ClientAuthMethod::ClientSecretPost), .. }
        ));
    }

    #[test]
    fn builder_errors_name_the_method() {
        let error = MsalConfig::builder().client_id("x").client_secret("y").build().unwrap_err();
        assert_eq!(error.to_string(), "authority is required");
        let error = MsalConfig::builder()
            .authority("https://idp.example")
            .client_id("x")
            .client_secret("y")
            .redirect_uri("https://app.example/cb")
            .id_token_algorithms([Algorithm::HS256])
            .build()
            .unwrap_err();
        assert!(error.to_string().starts_with("id_token_algorithms: HS256 is not an allowed"), "{error}");
        let error = MsalConfig::builder()
            .authority("https://idp.example")
            .client_id("x")
            .client_secret("y")
            .redirect_uri("https://app.example/cb")
            .max_sessions(0)
            .build()
            .unwrap_err();
        assert_eq!(error.to_string(), "max_sessions must be greater than zero");
    }
}
