//! The in-memory provider: metadata under a made-up issuer that no request ever reaches, and a token
//! endpoint and a JWKS (the key of the access tokens `TestMsal::access_token` signs) served in process on a
//! loopback port.
//!
//! Why a real HTTP endpoint rather than a stub inside the runtime: a refresh then goes through exactly the
//! code it goes through in production (the per-user lock, the throttle, the one retry, the HTTP client with
//! its timeouts, the parsing and classification of the provider's answer), and nothing in the runtime knows
//! it is being tested. The endpoint answers refreshes only, each as a test chose (`TestFailure`), in the
//! shapes Microsoft Entra ID answers with; it redeems no authorization code, since `TestMsal::sign_in` makes
//! sessions without one.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use http::StatusCode;
use http::header::RETRY_AFTER;
use parking_lot::Mutex;
use serde_json::json;
use tokio::task::JoinHandle;
use url::Url;

use crate::provider::account::HomeAccountId;
use crate::provider::discovery::ProviderMetadata;
use crate::scope::set::ScopeSet;
use crate::testing::error::TestingError;
use crate::testing::signed;
use crate::testing::token::TestFailure;

/// The in-memory provider's issuer. `.invalid` never resolves (RFC 6761 §6.4), so a browser or client sent
/// there by mistake fails at once; the runtime never connects to it.
pub const ISSUER: &str = "https://login.test.invalid/msal-testing";

/// How the token endpoint answers, shared with its task.
#[derive(Debug, Default)]
struct Answers {
    /// The refresh tokens issued at sign-in, and whose they are.
    refresh_tokens: HashMap<String, HomeAccountId>,
    /// Failures chosen by tests, the latest last: the latest that matches a refresh answers it.
    failures: Vec<(HomeAccountId, ScopeSet, TestFailure)>,
}

/// The provider of one `TestMsal`.
pub(crate) struct InMemoryProvider {
    metadata: ProviderMetadata,
    answers: Arc<Mutex<Answers>>,
    server: JoinHandle<()>,
}

impl fmt::Debug for InMemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryProvider").field("token_endpoint", &self.metadata.token_endpoint.as_str()).finish()
    }
}

impl InMemoryProvider {
    /// Starts the token endpoint on a free loopback port.
    pub(crate) async fn start() -> Result<Self, TestingError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(TestingError::Listen)?;
        let local = listener.local_addr().map_err(TestingError::Listen)?;
        let answers = Arc::new(Mutex::new(Answers::default()));
        let app = Router::new()
            .route("/token", post(token))
            // The key of the access tokens `TestMsal::access_token` signs, for a `ProtectedApi` to check them.
            .route("/jwks", get(|| async { Json(signed::jwks()) }))
            .with_state(Arc::clone(&answers));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(error = %error, "the in-memory provider's token endpoint stopped");
            }
        });
        let at = |path: &str| Url::parse(&format!("{ISSUER}/{path}")).expect("a URL under the issuer");
        let local = |path: &str| Url::parse(&format!("http://{local}/{path}")).expect("a loopback URL");
        let metadata = ProviderMetadata {
            issuer: ISSUER.to_owned(),
            authorization_endpoint: at("authorize"),
            token_endpoint: local("token"),
            jwks_uri: local("jwks"),
            end_session_endpoint: Some(at("logout")),
            response_modes_supported: Some(vec!["query".to_owned(), "form_post".to_owned()]),
            code_challenge_methods_supported: Some(vec!["S256".to_owned()]),
            id_token_signing_alg_values_supported: Some(vec![
                "RS256".to_owned(),
                "PS256".to_owned(),
                "ES256".to_owned(),
            ]),
            token_endpoint_auth_methods_supported: Some(vec![
                "client_secret_basic".to_owned(),
                "client_secret_post".to_owned(),
                "private_key_jwt".to_owned(),
            ]),
            authorization_response_iss_parameter_supported: true,
        };
        Ok(Self { metadata, answers, server })
    }

    pub(crate) fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// Remembers that `refresh_token` was issued to `account`.
    pub(crate) fn issued(&self, refresh_token: String, account: HomeAccountId) {
        self.answers.lock().refresh_tokens.insert(refresh_token, account);
    }

    /// From now on, refreshes of `account` asking for any of `scopes` are answered with `failure`.
    pub(crate) fn fail(&self, account: HomeAccountId, scopes: ScopeSet, failure: TestFailure) {
        self.answers.lock().failures.push((account, scopes, failure));
    }
}

impl Drop for InMemoryProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `POST /token`: a refresh, answered as chosen.
async fn token(State(answers): State<Arc<Mutex<Answers>>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("refresh_token") {
        return refused(
            "invalid_grant",
            "the in-memory provider redeems no codes: sign users in with TestMsal::sign_in",
        );
    }
    let requested = field("scope").and_then(|scope| ScopeSet::parse(scope).ok()).unwrap_or_default().without_reserved();
    let failure = {
        let answers = answers.lock();
        let Some(account) = field("refresh_token").and_then(|token| answers.refresh_tokens.get(token)) else {
            return refused("invalid_grant", "the refresh token was not issued by the in-memory provider");
        };
        answers
            .failures
            .iter()
            .rev()
            .find(|(whose, scopes, _)| whose == account && scopes.intersects(&requested))
            .map(|(_, _, failure)| failure.clone())
    };
    match failure {
        Some(TestFailure::ProviderDown) => {
            (StatusCode::SERVICE_UNAVAILABLE, [(RETRY_AFTER, "30")], "the in-memory provider is down").into_response()
        }
        Some(TestFailure::ClaimsChallenge(claims)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "interaction_required",
                "error_description": "AADSTS50076: Due to a configuration change made by your administrator, \
                    or because you moved to a new location, you must use multi-factor authentication.",
                "error_codes": [50076],
                "suberror": "basic_action",
                "claims": claims,
            })),
        )
            .into_response(),
        Some(TestFailure::ConsentRequired) | None => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "invalid_grant",
                "error_description": "AADSTS65001: The user or administrator has not consented to use the \
                    application. Send an interactive authorization request for this user and resource.",
                "error_codes": [65001],
                "suberror": "consent_required",
            })),
        )
            .into_response(),
    }
}

fn refused(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "error_description": description }))).into_response()
}
