//! [`MsalConfigBuilder`]: configuration in code, each method documenting its default, and the validation that
//! every configuration goes through once, at start-up.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::Algorithm;
use url::Url;

use crate::config::error::ConfigError;
use crate::config::routes::{SIGN_IN_PATH, SIGN_OUT_PATH};
use crate::config::settings::{
    DEFAULT_STORE_PATH, MsalConfig, ResponseMode, SignInUrls, StoreKeyRing, TokenCacheSetting,
};
use crate::provider::authority::{Authority, is_loopback};
use crate::provider::credential::{ClientAssertionKey, ClientAuthMethod, ClientSecret, CredentialSetting};
use crate::provider::id_token::DEFAULT_ALGORITHMS;
use crate::scope::set::{Scope, ScopeSet};
use crate::web::cookies::COOKIE_KEY_LEN;

impl MsalConfig {
    /// A builder, for configuration in code. Required: `authority`, `client_id`, a credential
    /// (`client_secret` or `client_assertion_key`), and `redirect_uri` unless the runtime is built
    /// [`without_sign_in`](MsalConfigBuilder::without_sign_in).
    pub fn builder() -> MsalConfigBuilder {
        MsalConfigBuilder::default()
    }
}

/// The cookie key as given: base64 from the environment, bytes from code.
#[derive(Debug, Clone)]
pub(super) enum KeyInput {
    Base64(String),
    Bytes(Vec<u8>),
}

/// Builds an [`MsalConfig`]; every method documents its default.
#[derive(Debug, Clone)]
pub struct MsalConfigBuilder {
    pub(super) from_env: bool,
    pub(super) authority: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<ClientSecret>,
    pub(super) client_auth_method: Option<ClientAuthMethod>,
    pub(super) client_assertion_key: Option<ClientAssertionKey>,
    pub(super) redirect_uri: Option<String>,
    pub(super) without_sign_in: bool,
    pub(super) cookie_key: Option<KeyInput>,
    pub(super) token_cache: Option<String>,
    pub(super) store_keys: Vec<KeyInput>,
    pub(super) store_timeout: Duration,
    pub(super) initial_scopes: Vec<String>,
    pub(super) response_mode: ResponseMode,
    pub(super) post_logout_redirect_uri: Option<String>,
    pub(super) clock_skew: Duration,
    pub(super) http_timeout: Duration,
    pub(super) id_token_algorithms: Vec<Algorithm>,
    pub(super) jwks_min_refetch_interval: Duration,
    pub(super) jwks_max_age: Duration,
    pub(super) session_idle_timeout: Duration,
    pub(super) session_absolute_timeout: Duration,
    pub(super) max_sessions: usize,
    pub(super) sign_in_timeout: Duration,
    pub(super) max_pending_sign_ins_per_browser: usize,
    pub(super) max_sign_in_memory: usize,
    pub(super) allowed_scopes: Vec<String>,
    pub(super) trusted_origins: Vec<String>,
    pub(super) max_cached_users: usize,
    pub(super) token_cache_lifetime: Duration,
    pub(super) handler_scopes_at_sign_in: bool,
    pub(super) declared_scopes: Option<Vec<String>>,
    pub(super) client_capabilities: Vec<String>,
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
            without_sign_in: false,
            cookie_key: None,
            token_cache: None,
            store_keys: Vec::new(),
            store_timeout: Duration::from_secs(2),
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
            max_sign_in_memory: 8 * 1024 * 1024,
            allowed_scopes: Vec::new(),
            trusted_origins: Vec::new(),
            max_cached_users: 100_000,
            token_cache_lifetime: Duration::from_secs(90 * 24 * 3600),
            handler_scopes_at_sign_in: false,
            declared_scopes: None,
            client_capabilities: Vec::new(),
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

    /// The full redirect URI registered with the provider; the callback is mounted at its path. Required
    /// unless [`without_sign_in`](Self::without_sign_in); https unless the host is loopback. Cookies are
    /// `Secure` unless it is plain-http loopback.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// A runtime that signs no user in: a web API, which takes bearer tokens and calls other APIs on behalf of
    /// its callers ([`Msal::acquire_token_on_behalf_of`](crate::Msal::acquire_token_on_behalf_of)), or a
    /// daemon ([`Msal::acquire_token_for_app`](crate::Msal::acquire_token_for_app)). It needs no redirect URI
    /// (giving one, or a post-logout redirect URI, is an error), [`Msal::routes`](crate::Msal::routes) mounts
    /// nothing, and nobody is ever signed in to it: the extractors of signed-in users find none.
    pub fn without_sign_in(mut self) -> Self {
        self.without_sign_in = true;
        self
    }

    /// 64 random bytes that sign and encrypt the cookies. Instances sharing a store share it. Default: with
    /// the embedded store, a key generated once and kept beside its file; with the in-memory store, a fresh
    /// key per process; Redis requires one.
    pub fn cookie_key(mut self, key: [u8; COOKIE_KEY_LEN]) -> Self {
        self.cookie_key = Some(KeyInput::Bytes(key.to_vec()));
        self
    }

    /// Where the token cache, sessions and sign-in redemptions are kept: `memory`, `redis://…` /
    /// `rediss://…`, or the embedded store's file path. Default: the embedded store at
    /// [`DEFAULT_STORE_PATH`](crate::config::settings::DEFAULT_STORE_PATH) (the README's "Choosing a store").
    pub fn token_cache(mut self, store: impl Into<String>) -> Self {
        self.token_cache = Some(store.into());
        self
    }

    /// The keys that encrypt what is stored outside the process and name its entries, 32 bytes each,
    /// newest first: the newest encrypts, every one decrypts (rotation). Required with Redis. Default with the
    /// embedded store: a key generated once and kept beside its file.
    pub fn store_keys(mut self, keys: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.store_keys = keys.into_iter().map(|key| KeyInput::Bytes(key.to_vec())).collect();
        self
    }

    /// How long a call to the embedded store or Redis may take before it fails. Default: 2 seconds.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
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

    /// Scopes that `GET /auth/signin?scope=…` accepts besides those of every `#[requires_scopes]` handler and
    /// the initial ones; any other scope is refused with 400 (docs/SECURITY.md §27). Default: none.
    pub fn allow_sign_in_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Bytes the server keeps for sign-ins whose callback came, so that duplicates of a callback end where
    /// the first one did (docs/SECURITY.md §6, §26); three quarters are kept for sign-ins that ended in a
    /// session. Sign-ins in progress cost the server nothing: they live in the browser's cookie. Default:
    /// 8 MiB.
    pub fn max_sign_in_memory(mut self, bytes: usize) -> Self {
        self.max_sign_in_memory = bytes;
        self
    }

    /// Origins besides the app's own whose unsafe requests (POST, PUT, PATCH, DELETE) the extractors accept
    /// from signed-in browsers, for example `https://admin.example.com`; requests from any other origin are
    /// refused with 403 (docs/SECURITY.md §28). Default: none.
    pub fn trusted_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_origins = origins.into_iter().map(Into::into).collect();
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

    /// Capabilities the client declares to the provider, such as `cp1` (it handles claims challenges: see
    /// `AccessToken::call`), sent on every authorization and token request as Entra's `xms_cc` claims
    /// request. Default: none.
    pub fn client_capabilities<I, S>(mut self, capabilities: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_capabilities = capabilities.into_iter().map(Into::into).collect();
        self
    }

    /// The redirect and post-logout URIs, checked; `None` [`without_sign_in`](Self::without_sign_in).
    fn sign_in_urls(&self) -> Result<Option<SignInUrls>, ConfigError> {
        let redirect_setting = self.setting("MSAL_REDIRECT_URI", "redirect_uri");
        let post_logout_setting = self.setting("MSAL_POST_LOGOUT_REDIRECT_URI", "post_logout_redirect_uri");
        if self.without_sign_in {
            return match (&self.redirect_uri, &self.post_logout_redirect_uri) {
                (None, None) => Ok(None),
                (Some(_), _) => Err(ConfigError::SignInSettingWithoutSignIn { setting: redirect_setting }),
                (None, Some(_)) => Err(ConfigError::SignInSettingWithoutSignIn { setting: post_logout_setting }),
            };
        }
        let redirect_uri = self.redirect_uri.as_deref().ok_or(ConfigError::Missing { setting: redirect_setting })?;
        let redirect_uri = secure_url(redirect_setting, redirect_uri)?;
        let path = redirect_uri.path();
        if matches!(path, "/" | SIGN_IN_PATH | SIGN_OUT_PATH) {
            return Err(ConfigError::CallbackPath { setting: redirect_setting, path: path.to_owned() });
        }
        let post_logout_redirect_uri = match &self.post_logout_redirect_uri {
            Some(uri) => secure_url(post_logout_setting, uri)?,
            None => redirect_uri.join("/").expect("the root of an absolute URL is a URL"),
        };
        Ok(Some(SignInUrls { redirect_uri, post_logout_redirect_uri }))
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

        let sign_in = self.sign_in_urls()?;
        // Without sign-in there are no cookies to send; `Secure` costs nothing.
        let secure_cookies = sign_in.as_ref().is_none_or(|urls| urls.redirect_uri.scheme() == "https");

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

        let capabilities_setting = self.setting("MSAL_CLIENT_CAPABILITIES", "client_capabilities");
        let client_capabilities = client_capabilities(capabilities_setting, &self.client_capabilities)?;

        let cache_setting = self.setting("MSAL_TOKEN_CACHE", "token_cache");
        let token_cache = token_cache_setting(cache_setting, self.token_cache.as_deref())?;
        let keys_setting = self.setting("MSAL_STORE_KEYS", "store_keys");
        let store_keys = store_key_ring(keys_setting, &self.store_keys)?;
        if let TokenCacheSetting::Redis(_) = token_cache {
            let because = "a Redis store (every instance must seal and name entries alike)";
            if store_keys.0.is_empty() {
                return Err(ConfigError::RequiredFor { setting: keys_setting, because });
            }
            // Cookies carry sessions, which only sign-in makes.
            if cookie_key.is_none() && sign_in.is_some() {
                return Err(ConfigError::RequiredFor { setting: cookie_setting, because });
            }
        }

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

        let allowed_setting = self.setting("MSAL_ALLOWED_SCOPES", "allow_sign_in_scopes");
        let allowed_scopes = ScopeSet::from_strs(self.allowed_scopes.iter().map(String::as_str))
            .map_err(|source| ConfigError::Scope { setting: allowed_setting, source })?;

        let origins_setting = self.setting("MSAL_TRUSTED_ORIGINS", "trusted_origins");
        let trusted_origins =
            self.trusted_origins.iter().map(|value| origin(origins_setting, value)).collect::<Result<Vec<_>, _>>()?;

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
            sign_in,
            cookie_key,
            token_cache,
            store_keys,
            store_timeout: self.store_timeout,
            initial_scopes,
            response_mode: self.response_mode,
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
            max_sign_in_memory: non_zero(self.max_sign_in_memory, "max_sign_in_memory")?.get(),
            allowed_scopes,
            trusted_origins,
            max_cached_users: non_zero(self.max_cached_users, "max_cached_users")?,
            token_cache_lifetime: self.token_cache_lifetime,
            handler_scopes_at_sign_in: self.handler_scopes_at_sign_in,
            declared_scopes,
            client_capabilities,
        })
    }
}

/// Capabilities are short names (`cp1`): letters, digits, `_` and `-`.
fn client_capabilities(setting: &'static str, capabilities: &[String]) -> Result<Vec<String>, ConfigError> {
    let valid = |c: &String| {
        !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    match capabilities.iter().find(|capability| !valid(capability)) {
        Some(bad) => Err(ConfigError::Choice { setting, value: bad.clone(), expected: "capability names such as cp1" }),
        None => Ok(capabilities.to_vec()),
    }
}

/// `MSAL_TOKEN_CACHE`: unset → the embedded store at its default path; `memory`; a Redis URL; a file path.
fn token_cache_setting(setting: &'static str, value: Option<&str>) -> Result<TokenCacheSetting, ConfigError> {
    let Some(value) = value else {
        return Ok(TokenCacheSetting::Embedded(PathBuf::from(DEFAULT_STORE_PATH)));
    };
    if value == "memory" {
        return Ok(TokenCacheSetting::Memory);
    }
    if value.starts_with("redis://") || value.starts_with("rediss://") {
        let url =
            Url::parse(value).map_err(|_| ConfigError::TokenCache { setting, reason: "not a valid Redis URL" })?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::TokenCache { setting, reason: "a Redis URL needs a host" });
        }
        return Ok(TokenCacheSetting::Redis(value.to_owned()));
    }
    if value.contains("://") {
        return Err(ConfigError::TokenCache { setting, reason: "an unknown kind of store URL" });
    }
    if value.ends_with('/') || value.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(ConfigError::TokenCache { setting, reason: "a directory, not a file path" });
    }
    Ok(TokenCacheSetting::Embedded(PathBuf::from(value)))
}

/// `MSAL_STORE_KEYS`: base64 keys of 32 bytes, newest first.
fn store_key_ring(setting: &'static str, keys: &[KeyInput]) -> Result<StoreKeyRing, ConfigError> {
    let mut ring = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        let bytes = match key {
            KeyInput::Base64(text) => STANDARD.decode(text).ok(),
            KeyInput::Bytes(bytes) => Some(bytes.clone()),
        };
        let key = bytes.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        ring.push(key.ok_or(ConfigError::StoreKey { setting, position: index + 1 })?);
    }
    Ok(StoreKeyRing(ring))
}

/// A web origin (RFC 6454): a scheme, a host and a port, written as a browser sends it in `Origin`, without a
/// path; https, or plain http on loopback.
fn origin(setting: &'static str, value: &str) -> Result<url::Origin, ConfigError> {
    let url = secure_url(setting, value)?;
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(ConfigError::Origin { setting, value: value.to_owned() });
    }
    Ok(url.origin())
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

    #[test]
    fn a_runtime_without_sign_in_needs_no_redirect_uri_and_refuses_one() {
        let api = || MsalConfig::builder().authority("https://idp.example").client_id("api").client_secret("s");
        let config = api().without_sign_in().build().unwrap();
        assert_eq!(config.callback_path(), None);
        assert!(config.sign_in.is_none() && config.secure_cookies);
        // Forgetting the redirect URI of an app that signs users in is still an error.
        assert_eq!(api().build().unwrap_err().to_string(), "redirect_uri is required");
        for (given, setting) in [
            (api().redirect_uri("https://api.example/cb"), "redirect_uri"),
            (api().post_logout_redirect_uri("https://api.example/"), "post_logout_redirect_uri"),
        ] {
            let error = given.without_sign_in().build().unwrap_err();
            assert!(matches!(error, ConfigError::SignInSettingWithoutSignIn { setting: named } if named == setting));
        }
        // Redis needs the store keys, but no cookie key: without sign-in there are no sessions.
        let redis = api().without_sign_in().token_cache("redis://127.0.0.1:6379").store_keys([[7; 32]]);
        assert!(redis.clone().build().is_ok());
        let error = redis.store_keys([]).build().unwrap_err();
        assert!(error.to_string().starts_with("store_keys is required with a Redis store"), "{error}");
    }
}
