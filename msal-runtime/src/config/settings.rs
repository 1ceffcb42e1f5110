//! [`MsalConfig`]: the validated configuration, and the choices it is made of.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
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

/// Where the token cache, the sessions and the sign-in redemptions are kept (`MSAL_TOKEN_CACHE`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCacheSetting {
    /// In process memory, bounded: gone at restart, not shared by instances (`memory`).
    Memory,
    /// An embedded database file (SQLite) that survives restarts and that processes on one host may share
    /// (a file path; the default is [`DEFAULT_STORE_PATH`]).
    Embedded(PathBuf),
    /// Redis, shared by every instance (`redis://…` or `rediss://…`), behind an in-process L1.
    Redis(String),
}

/// Where the embedded store is kept when `MSAL_TOKEN_CACHE` is unset: relative to the working directory.
pub const DEFAULT_STORE_PATH: &str = "msal-data/msal.sqlite3";

impl fmt::Debug for TokenCacheSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenCacheSetting::Memory => f.write_str("Memory"),
            TokenCacheSetting::Embedded(path) => f.debug_tuple("Embedded").field(path).finish(),
            // The URL may hold a password.
            TokenCacheSetting::Redis(url) => match url::Url::parse(url) {
                Ok(url) => write!(
                    f,
                    "Redis({}://{}:{})",
                    url.scheme(),
                    url.host_str().unwrap_or(""),
                    url.port().unwrap_or(6379)
                ),
                Err(_) => f.write_str("Redis(..)"),
            },
        }
    }
}

/// The store key ring (`MSAL_STORE_KEYS`), newest first. `Debug` shows how many keys only.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreKeyRing(pub(crate) Vec<[u8; 32]>);

impl fmt::Debug for StoreKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKeyRing({} keys)", self.0.len())
    }
}

/// The validated configuration of [`Msal`](crate::Msal).
#[derive(Debug, Clone)]
pub struct MsalConfig {
    pub(crate) authority: Authority,
    pub(crate) client_id: String,
    pub(crate) credential: CredentialSetting,
    /// `None` for a runtime [without sign-in](crate::MsalConfigBuilder::without_sign_in).
    pub(crate) sign_in: Option<SignInUrls>,
    pub(crate) cookie_key: Option<cookie::Key>,
    pub(crate) token_cache: TokenCacheSetting,
    pub(crate) store_keys: StoreKeyRing,
    pub(crate) store_timeout: Duration,
    pub(crate) initial_scopes: ScopeSet,
    pub(crate) response_mode: ResponseMode,
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
    pub(crate) client_capabilities: Vec<String>,
}

/// Where the provider sends the browser back to: the redirect URI (the callback is mounted at its path), and
/// the page after sign-out.
#[derive(Debug, Clone)]
pub(crate) struct SignInUrls {
    pub(crate) redirect_uri: Url,
    pub(crate) post_logout_redirect_uri: Url,
}

impl MsalConfig {
    /// The callback path (the path of the redirect URI); `None` for a runtime
    /// [without sign-in](crate::MsalConfigBuilder::without_sign_in).
    pub fn callback_path(&self) -> Option<&str> {
        self.sign_in.as_ref().map(|urls| urls.redirect_uri.path())
    }

    /// The app's own origin (its redirect URI's), against which requests that may change something are checked;
    /// an opaque origin, equal to none, for a runtime without sign-in (which has no browser sessions to guard).
    pub(crate) fn app_origin(&self) -> url::Origin {
        match &self.sign_in {
            Some(urls) => urls.redirect_uri.origin(),
            None => url::Origin::new_opaque(),
        }
    }

    /// The configured authority.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }
}
