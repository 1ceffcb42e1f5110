//! [`Msal`]: the handle an app creates once at start-up and gives to its router. It puts the runtime's parts
//! together (the provider, sessions, the token cache, silent acquisition, the sign-in flow) and delegates to
//! them; no part imports it back.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use jsonwebtoken::Algorithm;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, TokenRequestError};
use crate::acquire::lease::RefreshLeases;
use crate::acquire::refresh::Refresher;
use crate::acquire::silent::Acquisition;
use crate::acquire::without_user::{Grant, Request, TokensWithoutUser};
use crate::cache::memory::MemoryTokenStore;
use crate::cache::store::{StoreError, TokenStore};
use crate::cache::tiered::TieredTokenStore;
use crate::cache::token_cache::TokenCache;
use crate::cache::without_user::{Holder, app_partition, on_behalf_of_partition, user_assertion_hash};
use crate::config::error::ConfigError;
use crate::config::settings::{MsalConfig, ResponseMode};
use crate::provider::account::{HomeAccountId, MsalShape};
use crate::provider::admin_consent::admin_consent_url;
use crate::provider::authority::{Authority, EntraTenant};
use crate::provider::discovery::DiscoveryError;
use crate::provider::signing_keys::KeyRefreshPolicy;
use crate::provider::trust::{ConnectError, Provider, ProviderSettings};
use crate::random::random_bytes;
use crate::scope::registry::{handler_scopes, scoped_handlers};
use crate::scope::set::ScopeSet;
use crate::session::sessions::Sessions;
use crate::session::shared::SharedSessions;
use crate::session::store::SessionStore;
use crate::sign_in::flow::SignInFlow;
use crate::sign_in::start::SignInStart;
use crate::web::cookies::{COOKIE_KEY_LEN, Cookies};
use crate::web::same_origin::SameOrigin;
use crate::web_api::on_behalf_of::caller_account;
use crate::web_api::protected_api::{ApiCaller, CallerKind};

/// Why [`Msal`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MsalError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The provider's metadata or keys are unusable or unreachable.
    #[error("identity provider: {0}")]
    Discovery(#[from] DiscoveryError),
    /// The HTTP client could not be created (TLS set-up).
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The configured store (the embedded file, or Redis) could not be opened.
    #[error("token cache store: {0}")]
    Store(#[source] StoreError),
    /// None of the configured ID token algorithms is one the provider signs with.
    #[error("the provider signs ID tokens with {supported:?}, none of which is allowed ({allowed:?})")]
    NoCommonAlgorithm {
        /// What the provider's discovery document lists.
        supported: Vec<String>,
        /// What the configuration allows.
        allowed: Vec<Algorithm>,
    },
}

impl From<ConnectError> for MsalError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Discovery(error) => MsalError::Discovery(error),
            ConnectError::HttpClient(error) => MsalError::HttpClient(error),
            ConnectError::NoCommonAlgorithm { supported, allowed } => {
                MsalError::NoCommonAlgorithm { supported, allowed }
            }
        }
    }
}

/// Sign-in, the callback, sign-out, sessions and the token cache of one app.
///
/// Cheap to clone. Create it once with [`Msal::from_env`] or [`Msal::new`], merge [`routes`](Msal::routes)
/// into the app's router, and make it reachable from the router's state: the extractors
/// ([`SignedInUser`](crate::SignedInUser), [`AccessTokenFor`](crate::AccessTokenFor) and
/// `#[requires_scopes]` handlers) need `Msal: FromRef<S>` for the router's state `S` (axum's convention for
/// library state), so a router that cannot reach it does not compile.
///
/// ```no_run
/// use axum::{Router, extract::FromRef, routing::get};
/// use msal_runtime::{Msal, SignedInUser};
///
/// #[derive(Clone)]
/// struct AppState {
///     msal: Msal,
///     greeting: &'static str,
/// }
///
/// impl FromRef<AppState> for Msal {
///     fn from_ref(state: &AppState) -> Msal {
///         state.msal.clone()
///     }
/// }
///
/// async fn me(user: SignedInUser) -> String {
///     user.subject().to_owned()
/// }
///
/// # async fn run() -> Result<(), msal_runtime::error::MsalError> {
/// let msal = Msal::from_env().await?;
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .merge(msal.routes())
///     .with_state(AppState { msal, greeting: "hello" });
/// # let _ = app; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Msal {
    parts: Arc<Parts>,
}

/// The parts, each owned by the flow that uses it.
struct Parts {
    config: MsalConfig,
    /// Scopes of `#[requires_scopes]` handlers that the configured app does not declare.
    undeclared_scopes: ScopeSet,
    sessions: Arc<Sessions>,
    cache: TokenCache,
    acquisition: Acquisition,
    /// App-only tokens, and tokens on behalf of a web API's callers.
    without_user: Arc<TokensWithoutUser>,
    /// `None` for a runtime without sign-in.
    sign_in: Option<SignInFlow>,
    /// The extractors' same-origin check of unsafe requests (see `extract::cross_origin`).
    same_origin: SameOrigin,
}

impl fmt::Debug for Msal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Msal")
            .field("authority", &self.parts.config.authority)
            .field("client_id", &self.parts.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Msal {
    /// [`MsalConfig::from_env`], then [`Msal::new`].
    pub async fn from_env() -> Result<Self, MsalError> {
        Self::new(MsalConfig::from_env()?).await
    }

    /// Discovers the provider, fetches its signing keys and sets up the stores.
    pub async fn new(config: MsalConfig) -> Result<Self, MsalError> {
        let provider = Provider::connect(provider_settings(&config)).await?;
        Self::with_provider(config, provider).await
    }

    /// The runtime for `provider`, trusted already ([`Msal::new`], or the in-memory provider of the
    /// `testing` feature): sets up the stores and the parts.
    pub(crate) async fn with_provider(mut config: MsalConfig, provider: Provider) -> Result<Self, MsalError> {
        let handler_scopes = handler_scopes().without_reserved();
        if config.handler_scopes_at_sign_in {
            config.initial_scopes = config.initial_scopes.union(&handler_scopes);
        }
        let undeclared_scopes = undeclared_handler_scopes(&config, &handler_scopes);

        let provider = Arc::new(provider);
        let opened = crate::store::open::open(&config).await.map_err(MsalError::Store)?;
        let cookie_key = config.cookie_key.clone().or(opened.cookie_key).unwrap_or_else(|| {
            // Without sign-in there are no cookies to tell the operator about.
            if config.sign_in.is_some() {
                tracing::info!("MSAL_COOKIE_KEY is not set: cookies use a key made for this process only");
            }
            cookie::Key::from(&random_bytes::<COOKIE_KEY_LEN>())
        });
        let cookies = Cookies::new(cookie_key, config.secure_cookies, config.response_mode == ResponseMode::FormPost);
        let shared = opened.shared;
        let l1 = MemoryTokenStore::new(config.max_cached_users, &config.client_id);
        let token_store: Arc<dyn TokenStore> = match &shared {
            None => Arc::new(l1),
            Some(shared) => Arc::new(TieredTokenStore::new(l1, Arc::clone(&shared.store), Arc::clone(&shared.keys))),
        };
        let cache = TokenCache::with_store(token_store, config.token_cache_lifetime, provider.authority());
        let session_store =
            SessionStore::new(config.max_sessions, config.session_idle_timeout, config.session_absolute_timeout);
        let sessions = Arc::new(match &shared {
            None => Sessions::new(session_store, cookies.clone()),
            Some(shared) => Sessions::with_shared(session_store, cookies.clone(), |l1| {
                SharedSessions::new(Arc::clone(&shared.store), Arc::clone(&shared.keys), l1)
            }),
        });
        // Longer than a refresh can take: two token requests and the pause between them (see `lease`).
        let lease_ttl = config.http_timeout * 2 + Duration::from_secs(10);
        let leases = shared.clone().map(|shared| RefreshLeases::new(shared, lease_ttl));
        let refresher = Refresher::new(
            config.client_id.clone(),
            Arc::clone(&provider),
            cache.clone(),
            config.max_cached_users,
            leases,
        );
        let acquisition = Acquisition::new(config.client_id.clone(), cache.clone(), Arc::new(refresher));
        let without_user = Arc::new(TokensWithoutUser::new(
            config.client_id.clone(),
            provider.token_endpoint().clone(),
            cache.clone(),
            config.max_cached_users,
        ));
        let sign_in = SignInFlow::new(
            &config,
            provider,
            Arc::clone(&sessions),
            cache.clone(),
            cookies,
            &handler_scopes,
            shared.as_ref(),
        );
        let same_origin = SameOrigin::new(config.app_origin(), config.trusted_origins.clone());
        let parts =
            Parts { config, undeclared_scopes, sessions, cache, acquisition, without_user, sign_in, same_origin };
        Ok(Self { parts: Arc::new(parts) })
    }

    /// The routes the runtime owns: `GET /auth/signin`, the callback at the redirect URI's path (GET and
    /// POST), and `GET|POST /auth/signout`. Merge them into the app's router. None for a runtime
    /// [without sign-in](crate::MsalConfigBuilder::without_sign_in).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        match &self.parts.sign_in {
            Some(sign_in) => sign_in.routes(),
            None => Router::new(),
        }
    }

    /// The token cache.
    pub fn token_cache(&self) -> &TokenCache {
        &self.parts.cache
    }

    /// An access token of `account` for `scopes`, from the cache or by refreshing, without user interaction
    /// (MSAL's `AcquireTokenSilent`). `openid`, `profile` and `offline_access` are ignored.
    ///
    /// Handlers usually get their token from the [`AccessTokenFor`](crate::AccessTokenFor) extractor instead,
    /// which also turns [`AcquireError::InteractionRequired`] into a consent or sign-in response.
    pub async fn acquire_token_silent(
        &self,
        account: &HomeAccountId,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, AcquireError> {
        self.parts.acquisition.acquire_token_silent(account, scopes).await
    }

    /// An app-only access token for `scopes` (the client credentials grant, RFC 6749 §4.4, with the app's
    /// configured secret or `private_key_jwt` key): for a daemon, or a web API calling another API as itself.
    /// On Entra, `scopes` is one resource's `<resource>/.default` (the application permissions an administrator
    /// granted); `openid`, `profile` and `offline_access` are ignored.
    ///
    /// Cached in the same store as users' tokens (a shared store shares it across instances), in MSAL's schema
    /// as msal-python writes app tokens, and served until 5 minutes before it expires; concurrent requests for
    /// the same scopes share one provider request, and one past its `refresh_on` is replaced in the background
    /// while it serves. A refusal is [`AcquireError::Refused`]: no user can fix it, an administrator can.
    pub async fn acquire_token_for_app(&self, scopes: &ScopeSet) -> Result<AccessToken, TokenRequestError> {
        let authority = &self.parts.config.authority;
        let scopes = app_scopes(authority, scopes)?;
        let holder = Holder {
            home_account_id: String::new(),
            environment: MsalShape::of(authority).environment,
            realm: realm(authority),
            user_assertion_hash: None,
        };
        let request = Request { partition: app_partition(), holder, scopes, grant: Grant::ClientCredentials };
        Ok(self.parts.without_user.acquire(&request).await?)
    }

    /// An access token for a downstream API on behalf of the user who called this web API with `caller`'s
    /// token: Entra's on-behalf-of grant, or RFC 8693 token exchange with other providers (which must support
    /// it). The app registration configured here is the web API's own (the audience of `caller`'s token).
    ///
    /// Cached per caller and per token presented (keyed by a hash of the caller's identity and of MSAL's
    /// `user_assertion_hash`, never by the token), in the same store and with the same buffer, coalescing and
    /// throttling as [`acquire_token_for_app`](Self::acquire_token_for_app). When the provider answers with a
    /// claims challenge (conditional access), [`OnBehalfOfRejection`](crate::error::OnBehalfOfRejection)
    /// passes it back to the caller as a 401 `insufficient_claims`.
    pub async fn acquire_token_on_behalf_of(
        &self,
        caller: &ApiCaller,
        scopes: &ScopeSet,
    ) -> Result<AccessToken, TokenRequestError> {
        if caller.kind() == CallerKind::App {
            return Err(TokenRequestError::AppOnlyCaller);
        }
        let scopes = scopes.without_reserved();
        if scopes.is_empty() {
            return Err(TokenRequestError::InvalidScopes {
                scopes: String::new(),
                reason: "ask for the downstream API's scopes",
            });
        }
        let authority = &self.parts.config.authority;
        let (home_account_id, realm) = caller_account(caller, authority);
        let hash = user_assertion_hash(caller.assertion());
        let holder = Holder {
            home_account_id: home_account_id.clone(),
            environment: MsalShape::of(authority).environment,
            realm,
            user_assertion_hash: Some(hash.clone()),
        };
        let request = Request {
            partition: on_behalf_of_partition(&home_account_id, &hash),
            holder,
            scopes,
            grant: Grant::OnBehalfOf { assertion: caller.assertion().clone() },
        };
        Ok(self.parts.without_user.acquire(&request).await?)
    }

    /// Scopes of `#[requires_scopes]` handlers that the configured app does not declare
    /// ([`MsalConfigBuilder::declared_scopes`](crate::MsalConfigBuilder::declared_scopes)); each was logged as
    /// a warning at start-up. Empty when nothing was declared.
    pub fn undeclared_scopes(&self) -> &ScopeSet {
        &self.parts.undeclared_scopes
    }

    /// The URL an administrator visits to grant every handler's scopes for the whole organization (Entra's
    /// admin-consent endpoint); `None` for providers without one, and for a runtime without sign-in (the
    /// endpoint returns the administrator to the redirect URI). Register its redirect URI with the app.
    pub fn admin_consent_url(&self) -> Option<url::Url> {
        let config = &self.parts.config;
        let urls = config.sign_in.as_ref()?;
        let scopes = handler_scopes().union(&config.initial_scopes);
        admin_consent_url(&config.authority, &config.client_id, &urls.redirect_uri, &scopes)
    }

    /// The bytes the server holds for sign-ins, at most
    /// [`max_sign_in_memory`](crate::MsalConfigBuilder::max_sign_in_memory) for finished ones and 640 KiB for
    /// redemptions in flight (at most 4,096 at once). Sign-ins in progress cost nothing here: they live in the browsers' cookies until
    /// their callbacks come (docs/SECURITY.md §26).
    pub fn sign_in_memory_bytes(&self) -> usize {
        self.parts.sign_in.as_ref().map_or(0, SignInFlow::memory_bytes)
    }

    /// The configuration, for the extractors' decisions (the app's origin, the provider's dialect).
    pub(crate) fn config(&self) -> &MsalConfig {
        &self.parts.config
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.parts.sessions
    }

    pub(crate) fn acquisition(&self) -> &Acquisition {
        &self.parts.acquisition
    }

    pub(crate) fn same_origin(&self) -> &SameOrigin {
        &self.parts.same_origin
    }

    /// Where consent and re-authentication start their sign-ins.
    pub(crate) fn sign_in(&self) -> Option<&SignInStart> {
        self.parts.sign_in.as_ref().map(SignInFlow::start)
    }
}

/// The scopes of an app-only request: without the reserved ones, and on Entra exactly one
/// `<resource>/.default` (Entra refuses anything else for the client credentials grant: an app's permissions
/// are granted per resource, by an administrator, never asked for one by one).
fn app_scopes(authority: &Authority, scopes: &ScopeSet) -> Result<ScopeSet, TokenRequestError> {
    let requested = scopes.without_reserved();
    let invalid = |reason| TokenRequestError::InvalidScopes { scopes: scopes.to_scope_string(), reason };
    let single_default = requested.len() == 1 && requested.iter().all(|scope| is_default_scope(scope.as_str()));
    if requested.is_empty() {
        Err(invalid("ask for the scopes of the API to call"))
    } else if authority.is_entra() && !single_default {
        Err(invalid("app-only tokens on Entra ID are for one resource's `<resource>/.default` scope"))
    } else {
        Ok(requested)
    }
}

fn is_default_scope(scope: &str) -> bool {
    scope.len() > "/.default".len() && scope.to_ascii_lowercase().ends_with("/.default")
}

/// MSAL's `realm` of the app's own tokens: the tenant on Entra, elsewhere the issuer's realm (as for users).
fn realm(authority: &Authority) -> String {
    match authority {
        Authority::Entra(entra) => match entra.tenant() {
            EntraTenant::Tenant(tenant) => tenant.to_ascii_lowercase(),
            EntraTenant::Common => "common".to_owned(),
            EntraTenant::Organizations => "organizations".to_owned(),
            EntraTenant::Consumers => "consumers".to_owned(),
        },
        Authority::Oidc(_) => MsalShape::of(authority).realm,
    }
}

/// What the provider needs to know of the app, from its configuration.
pub(crate) fn provider_settings(config: &MsalConfig) -> ProviderSettings<'_> {
    ProviderSettings {
        authority: &config.authority,
        client_id: &config.client_id,
        credential: &config.credential,
        form_post: config.response_mode == ResponseMode::FormPost,
        http_timeout: config.http_timeout,
        id_token_algorithms: &config.id_token_algorithms,
        clock_skew: config.clock_skew,
        key_refresh: KeyRefreshPolicy { min_interval: config.jwks_min_refetch_interval, max_age: config.jwks_max_age },
        client_capabilities: &config.client_capabilities,
    }
}

/// The scopes of `#[requires_scopes]` handlers that the app's declared permissions lack, each logged with the
/// handlers that need it, so that a missing registration shows at start-up rather than at a user's consent.
fn undeclared_handler_scopes(config: &MsalConfig, handler_scopes: &ScopeSet) -> ScopeSet {
    let Some(declared) = &config.declared_scopes else { return ScopeSet::new() };
    let undeclared: ScopeSet = handler_scopes.iter().filter(|scope| !declared.contains(scope)).cloned().collect();
    for scope in undeclared.iter() {
        let handlers: Vec<&str> = scoped_handlers()
            .into_iter()
            .filter(|handler| handler.scopes().iter().any(|s| s.eq_ignore_ascii_case(scope.as_str())))
            .map(|handler| handler.name())
            .collect();
        tracing::warn!(scope = ?scope.as_str(), ?handlers, "a handler requires a scope the configured app does not declare");
    }
    undeclared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_only_scopes_on_entra_are_one_resources_default_scope() {
        let entra = Authority::parse("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").unwrap();
        let generic = Authority::parse("https://idp.example").unwrap();
        let scopes = |value: &str| ScopeSet::parse(value).unwrap();
        let ok = app_scopes(&entra, &scopes("openid api://mail-api/.default")).unwrap();
        assert_eq!(ok, scopes("api://mail-api/.default"), "reserved scopes are ignored");
        assert!(app_scopes(&entra, &scopes("https://graph.microsoft.com/.DEFAULT")).is_ok());
        for refused in ["api://mail-api/Mail.Read", "api://a/.default api://b/.default", "/.default", "openid"] {
            let error = app_scopes(&entra, &scopes(refused)).unwrap_err();
            assert!(matches!(error, TokenRequestError::InvalidScopes { .. }), "{refused}: {error}");
        }
        // Other providers take the scopes they define.
        assert!(app_scopes(&generic, &scopes("api://mail-api/Mail.Read.All orders")).is_ok());
        assert!(app_scopes(&generic, &scopes("offline_access")).is_err());
        assert_eq!(realm(&entra), "contoso.onmicrosoft.com");
    }
}
