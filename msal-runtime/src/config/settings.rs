//! [`MsalConfig`]: the validated configuration, and the choices it is made of.

use std::num::NonZeroUsize;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use crate::provider::authority::Authority;
use crate::provider::credential::CredentialSetting;
use crate::scope::set::ScopeSet;

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
    pub(crate) max_sign_in_memory: usize,
    pub(crate) allowed_scopes: ScopeSet,
    pub(crate) trusted_origins: Vec<url::Origin>,
    pub(crate) max_cached_users: NonZeroUsize,
    pub(crate) token_cache_lifetime: Duration,
    pub(crate) handler_scopes_at_sign_in: bool,
    pub(crate) declared_scopes: Option<ScopeSet>,
}

impl MsalConfig {
    /// The callback path (the path of the redirect URI).
    pub fn callback_path(&self) -> &str {
        self.redirect_uri.path()
    }

    /// The configured authority.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }
}
