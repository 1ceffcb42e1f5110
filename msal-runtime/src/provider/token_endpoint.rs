//! Requests to the provider's token endpoint: code redemption and refresh (RFC 6749 §4.1.3, §6), with client
//! authentication (RFC 6749 §2.3.1, RFC 7523) and the provider's error responses (RFC 6749 §5.2 plus Entra's
//! `error_codes`, `suberror` and `claims`).

use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::provider::credential::ClientCredential;
use crate::provider::http::{HttpError, ProviderHttp, ProviderResponse};
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// An OAuth error response from the provider (RFC 6749 §5.2), with Entra's extra fields.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderError {
    /// `error`, such as `invalid_grant`.
    pub error: String,
    /// `error_description` (Entra: starts with the `AADSTS` code).
    #[serde(default)]
    pub error_description: Option<String>,
    /// Entra's numeric `AADSTS` codes.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// Entra's `suberror`, such as `consent_required` or `bad_token`.
    #[serde(default)]
    pub suberror: Option<String>,
    /// A claims challenge to send back on the next authorization request.
    #[serde(default)]
    pub claims: Option<String>,
    /// Entra's correlation id, for support requests.
    #[serde(default)]
    pub correlation_id: Option<String>,
}

/// Why a token request produced no tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The provider refused the request with an OAuth error.
    #[error("the identity provider refused the token request: {}", .error.error)]
    Rejected {
        /// The HTTP status.
        status: StatusCode,
        /// The error response.
        error: Box<ProviderError>,
    },
    /// The provider is throttling or failing (429, 5xx, or an error without an OAuth body).
    #[error("the identity provider is unavailable (HTTP {status})")]
    Unavailable {
        /// The HTTP status.
        status: StatusCode,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The provider could not be reached or sent too much.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A success response that is not a valid token response.
    #[error("the identity provider sent an invalid token response: {0}")]
    InvalidResponse(#[source] serde_json::Error),
    /// The access token is empty or holds characters a bearer token cannot (RFC 6750 §2.1).
    #[error("the identity provider issued a malformed access token")]
    MalformedAccessToken,
    /// A token type other than `Bearer` (this crate does not do DPoP or PoP).
    #[error("the identity provider issued a {token_type:?} token; only Bearer tokens are supported")]
    UnsupportedTokenType {
        /// The response's `token_type`.
        token_type: String,
    },
    /// The `private_key_jwt` client assertion could not be signed.
    #[error("cannot sign the client assertion: {0}")]
    ClientAssertion(#[source] jsonwebtoken::errors::Error),
}

/// A successful token response (RFC 6749 §5.1, plus Entra's `ext_expires_in`, `refresh_in`, `client_info`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) expires_in: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) ext_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) refresh_in: Option<u64>,
    #[serde(default)]
    pub(crate) refresh_token: Option<Secret>,
    /// When the provider says (Entra does for some clients), the refresh token's lifetime.
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    pub(crate) id_token: Option<Secret>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) client_info: Option<String>,
    /// Entra's family-of-client-ids marker.
    #[serde(default)]
    pub(crate) foci: Option<String>,
}

impl TokenResponse {
    /// The scopes granted: the response's `scope` when present (RFC 6749 §5.1 makes it optional when equal to
    /// the request), else the requested ones.
    pub(crate) fn granted_scopes(&self, requested: &ScopeSet) -> ScopeSet {
        self.scope
            .as_deref()
            .and_then(|scope| ScopeSet::parse(scope).ok())
            .filter(|scopes| !scopes.is_empty())
            .unwrap_or_else(|| requested.clone())
    }
}

/// Entra sends some numbers as strings (v1 heritage); accept both.
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Number(u64),
        String(String),
    }
    match Option::<Value>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| serde::de::Error::custom("seconds")),
    }
}

/// The token endpoint of one client.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) http: ProviderHttp,
    pub(crate) url: Url,
    pub(crate) client_id: String,
    pub(crate) credential: ClientCredential,
    /// Entra dialect: ask for `client_info` (the `uid.utid` account id).
    pub(crate) entra: bool,
    /// The client's capabilities as a claims request, sent with every token request (see `capabilities`).
    pub(crate) capabilities: Option<String>,
}

impl TokenEndpoint {
    /// Redeems an authorization code. Never retried: a code is single-use, and a second redemption makes
    /// the provider revoke the whole grant (RFC 6749 §4.1.2).
    pub(crate) async fn redeem_code(
        &self,
        code: &str,
        redirect_uri: &Url,
        verifier: &str,
        scopes: &ScopeSet,
    ) -> Result<TokenResponse, TokenError> {
        let scope = scopes.to_scope_string();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
            ("scope", scope.as_str()),
        ];
        self.dialect(&mut form);
        self.request("authorization_code", form).await
    }

    /// Exchanges a refresh token for tokens with `scopes`.
    pub(crate) async fn refresh(&self, refresh_token: &Secret, scopes: &ScopeSet) -> Result<TokenResponse, TokenError> {
        let scope = scopes.to_scope_string();
        let mut form =
            vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose()), ("scope", scope.as_str())];
        self.dialect(&mut form);
        self.request("refresh_token", form).await
    }

    /// What every token request adds: Entra's `client_info`, and the client's capabilities.
    fn dialect<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) {
        if self.entra {
            form.push(("client_info", "1"));
        }
        if let Some(capabilities) = &self.capabilities {
            form.push(("claims", capabilities));
        }
    }

    /// One token request, measured (`telemetry`) and spanned: the grant and the outcome, never a token.
    async fn request(&self, grant: &'static str, form: Vec<(&str, &str)>) -> Result<TokenResponse, TokenError> {
        let span = tracing::info_span!("token_request", grant, outcome = tracing::field::Empty);
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(self.send(form), span.clone()).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(TokenError::Rejected { .. }) => "rejected",
            Err(_) => "unavailable",
        };
        span.record("outcome", outcome);
        crate::telemetry::provider_request(grant, outcome, started.elapsed());
        result
    }

    async fn send(&self, mut form: Vec<(&str, &str)>) -> Result<TokenResponse, TokenError> {
        let assertion;
        let basic;
        let mut basic_auth = None;
        match &self.credential {
            ClientCredential::SecretBasic(secret) => {
                // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
                basic = (form_urlencode(&self.client_id), form_urlencode(secret.expose()));
                basic_auth = Some((basic.0.as_str(), basic.1.as_str()));
            }
            ClientCredential::SecretPost(secret) => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", secret.expose()));
            }
            ClientCredential::PrivateKeyJwt(key) => {
                assertion = key.assertion(&self.client_id, &self.url).map_err(TokenError::ClientAssertion)?;
                form.push(("client_id", &self.client_id));
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
                form.push(("client_assertion", assertion.expose()));
            }
        }
        let response = self.http.post_form(&self.url, &form, basic_auth).await?;
        interpret(response)
    }
}

fn form_urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Turns a token endpoint response into tokens or a classified error.
pub(crate) fn interpret(response: ProviderResponse) -> Result<TokenResponse, TokenError> {
    let status = response.status;
    if status.is_success() {
        let tokens: TokenResponse = response.json().map_err(TokenError::InvalidResponse)?;
        // RFC 6750 §2.1: a bearer token is visible ASCII; anything else could split an `Authorization` header.
        if tokens.access_token.expose().is_empty()
            || !tokens.access_token.expose().bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(TokenError::MalformedAccessToken);
        }
        if let Some(token_type) = &tokens.token_type
            && !token_type.eq_ignore_ascii_case("bearer")
        {
            return Err(TokenError::UnsupportedTokenType { token_type: token_type.clone() });
        }
        return Ok(tokens);
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(TokenError::Unavailable { status, retry_after: response.retry_after });
    }
    match response.json::<ProviderError>() {
        Ok(error) if !error.error.is_empty() => Err(TokenError::Rejected { status, error: Box::new(error) }),
        _ => Err(TokenError::Unavailable { status, retry_after: response.retry_after }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str, retry_after: Option<u64>) -> ProviderResponse {
        ProviderResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    #[test]
    fn every_token_request_carries_the_dialect_and_the_capabilities() {
        let endpoint = |entra: bool, capabilities: Option<&str>| TokenEndpoint {
            http: ProviderHttp::new(Duration::from_secs(1)).unwrap(),
            url: Url::parse("https://idp.example/token").unwrap(),
            client_id: "client".to_owned(),
            credential: ClientCredential::SecretPost(crate::provider::credential::ClientSecret::new("s")),
            entra,
            capabilities: capabilities.map(str::to_owned),
        };
        let with = endpoint(true, Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#));
        let mut form = vec![("grant_type", "refresh_token")];
        with.dialect(&mut form);
        assert_eq!(
            form,
            [
                ("grant_type", "refresh_token"),
                ("client_info", "1"),
                ("claims", r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
            ]
        );
        let without = endpoint(false, None);
        let mut form = vec![("grant_type", "refresh_token")];
        without.dialect(&mut form);
        assert_eq!(form, [("grant_type", "refresh_token")]);
    }

    /// The shape of an Entra v2.0 token response to an authorization code redemption with `client_info=1`.
    const ENTRA_TOKEN_RESPONSE: &str = r#"{
        "token_type": "Bearer",
        "scope": "Mail.Read User.Read profile openid email",
        "expires_in": 4493,
        "ext_expires_in": "4493",
        "refresh_in": 2246,
        "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6I.at.sig",
        "refresh_token": "1.AXkAv4j5cvGGr0GRqy180BHbR.rt",
        "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6I.id.sig",
        "client_info": "eyJ1aWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtNjZmMy0zMzMyZWNhN2VhODEiLCJ1dGlkIjoiOTE4ODA0MGQtNmM2Ny00YzViLWIxMTItMzZhMzA0YjY2ZGFkIn0"
    }"#;

    /// Entra's answer when the user never consented to a scope (AADSTS65001).
    const ENTRA_CONSENT_REQUIRED: &str = r#"{
        "error": "invalid_grant",
        "error_description": "AADSTS65001: The user or administrator has not consented to use the application with ID 'x' named 'y'. Send an interactive authorization request for this user and resource. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-25 10:00:00Z",
        "error_codes": [65001],
        "timestamp": "2026-11-25 10:00:00Z",
        "trace_id": "0b2c2c55-1f5d-4a7f-9d4c-3a8f6b9e2f00",
        "correlation_id": "5d3e1b2a-6c4f-4e8d-9a7b-1c2d3e4f5a6b",
        "suberror": "consent_required"
    }"#;

    #[test]
    fn parses_entra_token_responses() {
        let tokens = interpret(response(200, ENTRA_TOKEN_RESPONSE, None)).unwrap();
        assert_eq!(tokens.expires_in, Some(4493));
        assert_eq!(tokens.ext_expires_in, Some(4493));
        assert_eq!(tokens.refresh_in, Some(2246));
        assert!(tokens.client_info.is_some());
        let granted = tokens.granted_scopes(&ScopeSet::parse("Mail.Read").unwrap());
        assert_eq!(granted, ScopeSet::parse("email Mail.Read openid profile User.Read").unwrap());
        // Secrets stay out of Debug output.
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("eyJ0eXAi") && !debug.contains("1.AXkA"), "{debug}");
    }

    #[test]
    fn parses_entra_error_bodies() {
        let Err(TokenError::Rejected { status, error }) = interpret(response(400, ENTRA_CONSENT_REQUIRED, None)) else {
            panic!("expected a rejection");
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error.error, "invalid_grant");
        assert_eq!(error.error_codes, [65001]);
        assert_eq!(error.suberror.as_deref(), Some("consent_required"));
        assert_eq!(error.correlation_id.as_deref(), Some("5d3e1b2a-6c4f-4e8d-9a7b-1c2d3e4f5a6b"));
    }

    #[test]
    fn classifies_throttling_outages_and_garbage() {
        assert!(matches!(
            interpret(response(503, "<html>down</html>", Some(7))),
            Err(TokenError::Unavailable { retry_after: Some(d), .. }) if d == Duration::from_secs(7)
        ));
        assert!(matches!(interpret(response(429, "{}", None)), Err(TokenError::Unavailable { .. })));
        assert!(matches!(interpret(response(400, "not json", None)), Err(TokenError::Unavailable { .. })));
        assert!(matches!(interpret(response(200, "{}", None)), Err(TokenError::InvalidResponse(_))));
        assert!(matches!(
            interpret(response(200, r#"{"access_token":"x","token_type":"DPoP"}"#, None)),
            Err(TokenError::UnsupportedTokenType { .. })
        ));
        assert!(interpret(response(200, r#"{"access_token":"x"}"#, None)).is_ok());
        assert!(matches!(
            interpret(response(200, r#"{"access_token":"a\r\nSet-Cookie: x"}"#, None)),
            Err(TokenError::MalformedAccessToken)
        ));
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_first() {
        assert_eq!(form_urlencode("a b+c:d/é"), "a+b%2Bc%3Ad%2F%C3%A9");
    }
}
