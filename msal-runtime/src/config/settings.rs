//! [`MsalConfig`]: the validated configuration, and the choices it is made of.

use std::num::NonZeroUsize;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use crate::config::builder::MsalConfigBuilder;
use crate::config::environment;
use crate::config::error::ConfigError;
use crate::provider::authority::Authority;
use crate::provider::credential::CredentialSetting;
use crate::scope::set::ScopeSet;

/// Length of `MSAL_COOKIE_KEY` once base64-decoded: 32 bytes to sign and 32 to encrypt.
pub const COOKIE_KEY_LEN: usize = 64;

/// How the authorization response comes back (OAuth 2.0 Multiple Response Type Encoding Practices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `GET redirect_uri?code=…&state=…` (the default).
    #[default]
    Query,
    /// `POST redirect_uri` with the parameters in a form body: the code never appears in a URL.
    FormPost,
}

/// Which token cache store to use (`MSAL_TOKEN_CACHE`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCacheSetting {
    /// In process memory, bounded (the default).
    Memory,
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
        environment::builder_from(lookup)?.build()
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
