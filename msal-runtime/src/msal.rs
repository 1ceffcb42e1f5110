//! [`Msal`]: the handle an app creates once at start-up and gives to its router.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::HeaderMap;
use jsonwebtoken::Algorithm;

use crate::acquire::Acquisition;
use crate::cache::TokenCache;
use crate::config::{ClientAuthMethod, CredentialSetting, MsalConfig, ResponseMode, TokenCacheSetting};
use crate::provider::discovery::{DiscoveryError, ProviderMetadata, discover};
use crate::provider::http::ProviderHttp;
use crate::provider::id_token::IdTokenRules;
use crate::provider::signing_keys::{KeyRefreshPolicy, SigningKeys};
use crate::provider::token_endpoint::{ClientCredential, TokenEndpoint};
use crate::random::random_bytes;
use crate::scope::registry::{admin_consent_url, handler_scopes, scoped_handlers};
use crate::scope::set::ScopeSet;
use crate::session::store::{SessionId, SessionRecord, Sessions};
use crate::sign_in::callback::{self, Outcome};
use crate::sign_in::pending::PendingSignIns;
use crate::sign_in::{sign_out, start};
use crate::web::cookies::{CookieKind, Cookies};

/// Path of the sign-in route.
pub const SIGN_IN_PATH: &str = "/auth/signin";
/// Path of the sign-out route (GET and POST).
pub const SIGN_OUT_PATH: &str = "/auth/signout";

/// Why [`Msal`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MsalError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The provider's metadata or keys are unusable or unreachable.
    #[error("identity provider: {0}")]
    Discovery(#[from] DiscoveryError),
    /// The HTTP client could not be created (TLS set-up).
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// None of the configured ID token algorithms is one the provider signs with.
    #[error("the provider signs ID tokens with {supported:?}, none of which is allowed ({allowed:?})")]
    NoCommonAlgorithm {
        /// What the provider's discovery document lists.
        supported: Vec<String>,
        /// What the configuration allows.
        allowed: Vec<Algorithm>,
    },
}

/// Sign-in, the callback, sign-out and the token cache of one app.
///
/// Cheap to clone. Create it once with [`Msal::from_env`] or [`Msal::new`], then mount
/// [`routes`](Msal::routes) and [`layer`](Msal::layer) on the app's router.
#[derive(Clone)]
pub struct Msal {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: MsalConfig,
    /// Scopes of `#[requires_scopes]` handlers that the configured app does not declare.
    pub(crate) undeclared_scopes: ScopeSet,
    pub(crate) acquisition: Acquisition,
    pub(crate) metadata: ProviderMetadata,
    pub(crate) id_token_rules: IdTokenRules,
    pub(crate) keys: SigningKeys,
    pub(crate) token_endpoint: TokenEndpoint,
    pub(crate) pending: Arc<PendingSignIns<Outcome>>,
    pub(crate) sessions: Sessions,
    pub(crate) cache: TokenCache,
    pub(crate) cookies: Cookies,
}

impl fmt::Debug for Msal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Msal")
            .field("authority", &self.inner.config.authority)
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Msal {
    /// [`MsalConfig::from_env`], then [`Msal::new`].
    pub async fn from_env() -> Result<Self, MsalError> {
        Self::new(MsalConfig::from_env()?).await
    }

    /// Discovers the provider, fetches its signing keys and sets up the stores.
    pub async fn new(mut config: MsalConfig) -> Result<Self, MsalError> {
        let handler_scopes = handler_scopes().without_reserved();
        if config.handler_scopes_at_sign_in {
            config.initial_scopes = config.initial_scopes.union(&handler_scopes);
        }
        let undeclared_scopes = match &config.declared_scopes {
            Some(declared) => handler_scopes.iter().filter(|scope| !declared.contains(scope)).cloned().collect(),
            None => ScopeSet::new(),
        };
        for scope in undeclared_scopes.iter() {
            let handlers: Vec<&str> = scoped_handlers()
                .into_iter()
                .filter(|handler| handler.scopes().iter().any(|s| s.eq_ignore_ascii_case(scope.as_str())))
                .map(|handler| handler.name())
                .collect();
            tracing::warn!(%scope, ?handlers, "a handler requires a scope the configured app does not declare");
        }
        let http = ProviderHttp::new(config.http_timeout).map_err(MsalError::HttpClient)?;
        let discovered = discover(&http, &config.authority, config.response_mode == ResponseMode::FormPost).await?;
        let metadata = discovered.metadata;
        let keys = SigningKeys::fetch(
            http.clone(),
            metadata.jwks_uri.clone(),
            KeyRefreshPolicy { min_interval: config.jwks_min_refetch_interval, max_age: config.jwks_max_age },
        )
        .await?;
        let algorithms = common_algorithms(&config.id_token_algorithms, &metadata)?;
        let credential = client_credential(&config.credential, &metadata);
        let token_endpoint = TokenEndpoint {
            http,
            url: metadata.token_endpoint.clone(),
            client_id: config.client_id.clone(),
            credential,
            entra: config.authority.is_entra(),
        };
        let cookie_key = config.cookie_key.clone().unwrap_or_else(|| {
            tracing::info!("MSAL_COOKIE_KEY is not set: cookies use a key made for this process only");
            cookie::Key::from(&random_bytes::<{ crate::config::COOKIE_KEY_LEN }>())
        });
        let cache = match config.token_cache {
            TokenCacheSetting::Memory => {
                TokenCache::in_memory(config.max_cached_users, config.token_cache_lifetime, &config.client_id)
            }
        };
        let inner = Inner {
            undeclared_scopes,
            acquisition: Acquisition::new(config.max_cached_users),
            id_token_rules: IdTokenRules {
                client_id: config.client_id.clone(),
                issuer: discovered.issuer,
                algorithms,
                clock_skew: config.clock_skew,
            },
            keys,
            token_endpoint,
            pending: PendingSignIns::new(
                config.max_pending_sign_ins,
                config.max_pending_sign_ins_per_browser,
                config.sign_in_timeout,
                // A duplicate callback waits as long as the first one's provider calls may take.
                config.http_timeout * 3 + Duration::from_secs(5),
            ),
            sessions: Sessions::new(config.max_sessions, config.session_idle_timeout, config.session_absolute_timeout),
            cache,
            cookies: Cookies::new(cookie_key, config.secure_cookies, config.response_mode == ResponseMode::FormPost),
            metadata,
            config,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The routes the runtime owns: `GET /auth/signin`, the callback at the redirect URI's path (GET and
    /// POST), and `GET|POST /auth/signout`. Merge them into the app's router.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route(SIGN_IN_PATH, get(start::sign_in))
            .route(self.inner.config.callback_path(), get(callback::callback_get).post(callback::callback_post))
            .route(SIGN_OUT_PATH, get(sign_out::sign_out).post(sign_out::sign_out))
            .with_state(self.clone())
    }

    /// Makes this `Msal` available to the extractors ([`SignedInUser`](crate::SignedInUser) and the token
    /// extractors) of every route it wraps.
    pub fn layer(&self) -> axum::Extension<Msal> {
        axum::Extension(self.clone())
    }

    /// The token cache.
    pub fn token_cache(&self) -> &TokenCache {
        &self.inner.cache
    }

    /// Scopes of `#[requires_scopes]` handlers that the configured app does not declare
    /// ([`MsalConfigBuilder::declared_scopes`](crate::MsalConfigBuilder::declared_scopes)); each was logged as
    /// a warning at start-up. Empty when nothing was declared.
    pub fn undeclared_scopes(&self) -> &ScopeSet {
        &self.inner.undeclared_scopes
    }

    /// The URL an administrator visits to grant every handler's scopes for the whole organization (Entra's
    /// admin-consent endpoint); `None` for providers without one. Register its redirect URI with the app.
    pub fn admin_consent_url(&self) -> Option<url::Url> {
        let config = &self.inner.config;
        let scopes = handler_scopes().union(&config.initial_scopes);
        admin_consent_url(&config.authority, &config.client_id, &config.redirect_uri, &scopes)
    }

    /// The session of the browser that sent `headers`, if it is signed in.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<(SessionId, Arc<SessionRecord>)> {
        let id = SessionId::from_cookie(self.inner.cookies.read(headers, CookieKind::Session)?);
        let record = self.inner.sessions.load(&id)?;
        Some((id, record))
    }
}

/// The configured algorithms the provider actually uses (all of them when it does not say).
fn common_algorithms(allowed: &[Algorithm], metadata: &ProviderMetadata) -> Result<Vec<Algorithm>, MsalError> {
    let Some(supported) = &metadata.id_token_signing_alg_values_supported else { return Ok(allowed.to_vec()) };
    let common: Vec<Algorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| supported.iter().any(|s| s.parse::<Algorithm>().ok() == Some(*alg)))
        .collect();
    if common.is_empty() {
        return Err(MsalError::NoCommonAlgorithm { supported: supported.clone(), allowed: allowed.to_vec() });
    }
    Ok(common)
}

/// The credential to present: `client_secret_basic` unless configured otherwise or the provider lists only
/// `client_secret_post` (RFC 6749 §2.3.1 requires providers to support Basic; discovery's default is Basic).
fn client_credential(setting: &CredentialSetting, metadata: &ProviderMetadata) -> ClientCredential {
    match setting {
        CredentialSetting::PrivateKeyJwt(key) => ClientCredential::PrivateKeyJwt(key.clone()),
        CredentialSetting::Secret { secret, method } => {
            let method = method.unwrap_or_else(|| match &metadata.token_endpoint_auth_methods_supported {
                Some(methods)
                    if !methods.iter().any(|m| m == "client_secret_basic")
                        && methods.iter().any(|m| m == "client_secret_post") =>
                {
                    ClientAuthMethod::ClientSecretPost
                }
                _ => ClientAuthMethod::ClientSecretBasic,
            });
            match method {
                ClientAuthMethod::ClientSecretBasic => ClientCredential::SecretBasic(secret.clone()),
                ClientAuthMethod::ClientSecretPost => ClientCredential::SecretPost(secret.clone()),
            }
        }
    }
}
