//! Starting a sign-in: `GET /auth/signin?return_url=…` answers 303 to the provider's authorization endpoint
//! (OpenID Connect Core §3.1.2.1) with PKCE S256, a fresh `state` and `nonce`, and the scopes
//! `openid profile offline_access` plus the app's initial ones. The sign-in is kept in the browser's own
//! sealed cookie (see `transaction`), and only scopes the app can ask for are accepted (docs/SECURITY.md
//! §26, §27): anyone can send this request, so nothing in it may grow the server.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use url::Url;

use crate::clock::unix_now;
use crate::config::routes::SIGN_IN_PATH;
use crate::config::settings::{MsalConfig, ResponseMode, SignInUrls};
use crate::provider::capabilities::with_capabilities;
use crate::random::random_token;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::session::store::Interacted;
use crate::sign_in::pkce::PkceVerifier;
use crate::sign_in::return_url::ReturnUrl;
use crate::sign_in::transaction::{PendingSignIn, TransactionError, Transactions};
use crate::web::page::error_page;
use crate::web::params::Params;

/// What a sign-in asks for beyond the defaults (used for incremental consent and re-authentication too).
#[derive(Debug, Default)]
pub(crate) struct SignInRequest<'a> {
    /// The scopes this interaction is for, besides the reserved ones. `None`: a plain sign-in with the app's
    /// initial scopes. (Not both: Entra refuses scopes of two resources in one request.)
    pub(crate) scopes: Option<&'a ScopeSet>,
    pub(crate) login_hint: Option<&'a str>,
    /// A claims challenge to pass on (OpenID Connect Core §5.5).
    pub(crate) claims: Option<&'a str>,
    pub(crate) prompt: Option<&'a str>,
}

/// Longest claims request accepted in a sign-in URL.
const MAX_CLAIMS_LEN: usize = 8 * 1024;

/// Longest `scope` parameter accepted: far more than the scopes of any app, far less than a flood needs.
const MAX_SCOPE_PARAM_LEN: usize = 4 * 1024;

/// Longest `login_hint` accepted (an email address is at most 254 characters, RFC 5321 §4.5.3.1).
const MAX_LOGIN_HINT_LEN: usize = 256;

/// A same-origin URL that starts a sign-in when a browser navigates to it (the route below reads it):
/// `/auth/signin?[return_url=…][&scope=…][&login_hint=…][&claims=…]`.
pub(crate) fn sign_in_link(
    return_url: Option<&ReturnUrl>,
    scopes: Option<&ScopeSet>,
    login_hint: Option<&str>,
    claims: Option<&str>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(return_url) = return_url {
        query.append_pair("return_url", return_url.as_str());
    }
    if let Some(scopes) = scopes.filter(|scopes| !scopes.is_empty()) {
        query.append_pair("scope", &scopes.to_scope_string());
    }
    if let Some(login_hint) = login_hint {
        query.append_pair("login_hint", login_hint);
    }
    if let Some(claims) = claims {
        query.append_pair("claims", claims);
    }
    format!("{SIGN_IN_PATH}?{}", query.finish())
}

/// `GET /auth/signin?return_url=…[&scope=…][&login_hint=…][&claims=…]`.
pub(crate) async fn sign_in(
    State(start): State<Arc<SignInStart>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let _span = tracing::info_span!("sign_in").entered();
    let refused =
        |message: &str| error_page(StatusCode::BAD_REQUEST, "Sign-in could not start", message, Some(("/", "Home")));
    let params = match Params::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => return refused(&error.to_string()),
    };
    let return_url = match params.get("return_url").map(ReturnUrl::parse).transpose() {
        Ok(return_url) => return_url.unwrap_or_else(ReturnUrl::root),
        Err(error) => return refused(&error.to_string()),
    };
    // `scope` and `claims` come from the consent URLs given to `fetch()` callers (see `extract::interaction`).
    let scope_param = params.get("scope");
    if scope_param.is_some_and(|scopes| scopes.len() > MAX_SCOPE_PARAM_LEN) {
        return refused("the scope parameter is too long");
    }
    let scopes = match scope_param.map(ScopeSet::parse).transpose() {
        Ok(scopes) => scopes.map(|scopes| scopes.without_reserved()),
        Err(error) => return refused(&error.to_string()),
    };
    if let Some(scope) = scopes.iter().flat_map(ScopeSet::iter).find(|scope| !start.allowed_scopes.contains(scope)) {
        return refused(&format!("`{scope}` is not a scope this app asks for"));
    }
    let login_hint = params.get("login_hint");
    if login_hint.is_some_and(|hint| hint.len() > MAX_LOGIN_HINT_LEN) {
        return refused("the login_hint parameter is too long");
    }
    let claims = params.get("claims");
    if claims.is_some_and(|claims| {
        claims.len() > MAX_CLAIMS_LEN || serde_json::from_str::<serde_json::Value>(claims).is_err()
    }) {
        return refused("the claims parameter is not a JSON claims request");
    }
    let request =
        SignInRequest { scopes: scopes.as_ref().filter(|scopes| !scopes.is_empty()), login_hint, claims, prompt: None };
    start.redirect(&headers, return_url, &request)
}

/// Starts sign-ins: seals each in the browser's cookie and sends the browser to the provider's authorization
/// endpoint.
#[derive(Debug)]
pub(crate) struct SignInStart {
    client_id: String,
    redirect_uri: Url,
    authorization_endpoint: Url,
    response_mode: ResponseMode,
    entra: bool,
    initial_scopes: ScopeSet,
    /// What `GET /auth/signin` may ask for: the scopes of every `#[requires_scopes]` handler, the initial ones
    /// and those the app allows explicitly.
    allowed_scopes: ScopeSet,
    /// The client's capabilities (`cp1`), merged into every authorization request's claims.
    capabilities: Vec<String>,
    transactions: Transactions,
}

impl SignInStart {
    pub(crate) fn new(
        config: &MsalConfig,
        urls: &SignInUrls,
        authorization_endpoint: Url,
        handler_scopes: &ScopeSet,
        transactions: Transactions,
    ) -> Self {
        let allowed_scopes = handler_scopes.union(&config.initial_scopes).union(&config.allowed_scopes);
        Self {
            client_id: config.client_id.clone(),
            redirect_uri: urls.redirect_uri.clone(),
            authorization_endpoint,
            response_mode: config.response_mode,
            entra: config.authority.is_entra(),
            initial_scopes: config.initial_scopes.clone(),
            allowed_scopes: allowed_scopes.without_reserved(),
            capabilities: config.client_capabilities.clone(),
            transactions,
        }
    }

    /// Whether `GET /auth/signin` accepts `scope` (consent URLs handed to scripts must only name such scopes).
    pub(crate) fn allows(&self, scope: &crate::scope::set::Scope) -> bool {
        scope.is_reserved() || self.allowed_scopes.contains(scope)
    }

    /// Seals a pending sign-in in the browser's cookie and answers 303 to the provider. A return URL too long
    /// to keep beside the scopes is replaced by the site root rather than failing the sign-in.
    pub(crate) fn redirect(&self, headers: &HeaderMap, return_url: ReturnUrl, request: &SignInRequest<'_>) -> Response {
        let started = self
            .start(headers, return_url, request)
            .or_else(|TransactionError::TooLarge| self.start(headers, ReturnUrl::root(), request));
        let (authorize_url, set_cookies) = match started {
            Ok(started) => started,
            Err(error) => {
                return error_page(StatusCode::BAD_REQUEST, "Sign-in could not start", &error.to_string(), None);
            }
        };
        let location = HeaderValue::from_str(authorize_url.as_str()).expect("a URL is a valid header value");
        let mut response =
            (StatusCode::SEE_OTHER, [(LOCATION, location), (CACHE_CONTROL, HeaderValue::from_static("no-store"))])
                .into_response();
        for cookie in set_cookies {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
        response
    }

    /// The authorization request URL and the `Set-Cookie` values that keep the sign-in in this browser.
    fn start(
        &self,
        headers: &HeaderMap,
        return_url: ReturnUrl,
        request: &SignInRequest<'_>,
    ) -> Result<(Url, Vec<HeaderValue>), TransactionError> {
        let scopes = ScopeSet::reserved().union(request.scopes.unwrap_or(&self.initial_scopes));
        let state = random_token();
        let nonce = random_token();
        let verifier = PkceVerifier::generate();

        let mut url = self.authorization_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", self.redirect_uri.as_str())
                .append_pair("scope", &scopes.to_scope_string())
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &verifier.s256_challenge())
                .append_pair("code_challenge_method", "S256");
            if self.response_mode == ResponseMode::FormPost {
                query.append_pair("response_mode", "form_post");
            }
            if self.entra {
                query.append_pair("client_info", "1");
            }
            if let Some(login_hint) = request.login_hint {
                query.append_pair("login_hint", login_hint);
            }
            if let Some(claims) = with_capabilities(request.claims, &self.capabilities) {
                query.append_pair("claims", &claims);
            }
            if let Some(prompt) = request.prompt {
                query.append_pair("prompt", prompt);
            }
        }

        let pending = PendingSignIn {
            nonce: Secret::new(nonce),
            verifier,
            return_url,
            response_mode: self.response_mode,
            scopes,
            interaction: request
                .scopes
                .map(|scopes| Interacted { scopes: scopes.clone(), claims: request.claims.is_some() }),
            started_at: unix_now(),
        };
        let set_cookies = self.transactions.begin(headers, &state, &pending)?;
        Ok((url, set_cookies))
    }
}
