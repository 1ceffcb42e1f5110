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
    /// A `Bearer` response with `access_token` for `scope`, valid `expires_in` seconds, and nothing else: what
    /// tests and the `testing` feature write to a cache (adding a refresh or ID token where they need one).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn bearer(access_token: Secret, expires_in: u64, scope: Option<String>) -> Self {
        Self {
            access_token,
            token_type: Some("Bearer".to_owned()),
            expires_in: Some(expires_in),
            ext_expires_in: None,
            refresh_in: None,
            refresh_token: None,
            refresh_token_expires_in: None,
            id_token: None,
            scope,
            client_info: None,
            foci: None,
        }
    }

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

    /// An app-only token: the client credentials grant (RFC 6749 §4.4) with the app's own credential. On
    /// Entra, `scopes` is one resource's `<resource>/.default` (checked by the caller). No `client_info`: there
    /// is no user. Safe to retry: nothing is consumed.
    pub(crate) async fn client_credentials(&self, scopes: &ScopeSet) -> Result<TokenResponse, TokenError> {
        let scope = scopes.to_scope_string();
        let mut form = vec![("grant_type", "client_credentials"), ("scope", scope.as_str())];
        self.capabilities(&mut form);
        self.request("client_credentials", form).await
    }

    /// A token for a downstream API on behalf of the user whose access token `assertion` is (the caller of a
    /// web API). Entra: its on-behalf-of grant (`jwt-bearer` with `requested_token_use=on_behalf_of`); other
    /// providers: RFC 8693 token exchange of an access token for an access token. Safe to retry: the assertion
    /// is not consumed.
    pub(crate) async fn on_behalf_of(
        &self,
        assertion: &Secret,
        scopes: &ScopeSet,
    ) -> Result<TokenResponse, TokenError> {
        let scope = scopes.to_scope_string();
        let mut form = on_behalf_of_form(self.entra, assertion.expose(), &scope);
        self.capabilities(&mut form);
        let grant = if self.entra { "on_behalf_of" } else { "token_exchange" };
        let span = tracing::info_span!("token_request", grant, outcome = tracing::field::Empty);
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(
            async {
                let response = self.post(form).await?;
                if !self.entra && response.status.is_success() {
                    check_issued_token_type(&response)?;
                }
                interpret(response)
            },
            span.clone(),
        )
        .await;
        self.measure(grant, &span, started, &result);
        result
    }

    /// The client's capabilities as a claims request, as every token request carries them.
    fn capabilities<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) {
        if let Some(capabilities) = &self.capabilities {
            form.push(("claims", capabilities));
        }
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
        self.measure(grant, &span, started, &result);
        result
    }

    fn measure(
        &self,
        grant: &'static str,
        span: &tracing::Span,
        started: std::time::Instant,
        result: &Result<TokenResponse, TokenError>,
    ) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(TokenError::Rejected { .. }) => "rejected",
            Err(_) => "unavailable",
        };
        span.record("outcome", outcome);
        crate::telemetry::provider_request(grant, outcome, started.elapsed());
    }

    async fn send(&self, form: Vec<(&str, &str)>) -> Result<TokenResponse, TokenError> {
        interpret(self.post(form).await?)
    }

    /// Posts the form with the client's authentication.
    async fn post(&self, mut form: Vec<(&str, &str)>) -> Result<ProviderResponse, TokenError> {
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
        Ok(self.http.post_form(&self.url, &form, basic_auth).await?)
    }
}

/// RFC 8693 §3: the token type URI of an OAuth access token.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The form of an on-behalf-of request, without client authentication.
///
/// Entra ("Microsoft identity platform and OAuth 2.0 On-Behalf-Of flow"): the RFC 7523 `jwt-bearer` grant
/// with the caller's token as `assertion` and `requested_token_use=on_behalf_of`. Other providers: RFC 8693
/// §2.1 token exchange, the caller's access token as `subject_token`, asking for an access token; the target
/// is named by `scope` (§2.1 allows `resource` and `audience` too; a provider maps scopes to their resource,
/// as Entra does).
fn on_behalf_of_form<'a>(entra: bool, assertion: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    if entra {
        vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
            ("requested_token_use", "on_behalf_of"),
            ("scope", scope),
        ]
    } else {
        vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", assertion),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("scope", scope),
        ]
    }
}

/// RFC 8693 §2.2.1: `issued_token_type` is required, and anything but an access token (an ID token, a SAML
/// assertion, with `token_type` `N_A`) cannot be sent to an API as a bearer token.
fn check_issued_token_type(response: &ProviderResponse) -> Result<(), TokenError> {
    #[derive(Deserialize)]
    struct Issued {
        issued_token_type: Option<String>,
    }
    let issued: Issued = response.json().map_err(TokenError::InvalidResponse)?;
    match issued.issued_token_type.as_deref() {
        Some(ACCESS_TOKEN_TYPE) | None => Ok(()),
        Some(other) => Err(TokenError::UnsupportedTokenType { token_type: other.to_owned() }),
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
pub(crate) mod tests {
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

    /// Entra's on-behalf-of request as its documentation records it (client authentication aside).
    #[test]
    fn on_behalf_of_requests_have_entra_and_rfc_8693_shapes() {
        let entra = on_behalf_of_form(true, "eyJ0eXAi.caller.sig", "https://graph.microsoft.com/user.read");
        assert_eq!(
            entra,
            [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", "eyJ0eXAi.caller.sig"),
                ("requested_token_use", "on_behalf_of"),
                ("scope", "https://graph.microsoft.com/user.read"),
            ]
        );
        let generic = on_behalf_of_form(false, "eyJ0eXAi.caller.sig", "api://contacts-api/Contacts.Read");
        assert_eq!(
            generic,
            [
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                ("subject_token", "eyJ0eXAi.caller.sig"),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
                ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
                ("scope", "api://contacts-api/Contacts.Read"),
            ]
        );
    }

    /// Entra's answer to an on-behalf-of request (its documented shape; `ext_expires_in` 0, and a refresh
    /// token and ID token when `offline_access openid` were asked for).
    pub(crate) const ENTRA_OBO_RESPONSE: &str = r#"{
        "token_type": "Bearer",
        "scope": "https://graph.microsoft.com/user.read",
        "expires_in": 3269,
        "ext_expires_in": 0,
        "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFRQUJBQUFBQUFCbmZpRy1tQTZOVGFlN0Nk.obo.sig",
        "refresh_token": "OAQABAAAAAABnfiG-mA6NTae7CdWW7QfdAALzDWjw6qSn4GUDfxWzJDZ6lk9qRw4An.rt"
    }"#;

    /// Entra refusing an assertion that is not for this API (AADSTS50013, `invalid_grant`).
    pub(crate) const ENTRA_OBO_INVALID_ASSERTION: &str = r#"{
        "error": "invalid_grant",
        "error_description": "AADSTS50013: Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: 'x']. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-25 10:00:00Z",
        "error_codes": [50013],
        "timestamp": "2026-11-25 10:00:00Z",
        "trace_id": "0b2c2c55-1f5d-4a7f-9d4c-3a8f6b9e2f00",
        "correlation_id": "5d3e1b2a-6c4f-4e8d-9a7b-1c2d3e4f5a6b"
    }"#;

    /// Entra's answer when conditional access needs more of the user (its documented on-behalf-of example,
    /// AADSTS50079): the claims challenge to pass back to the API's caller.
    pub(crate) const ENTRA_OBO_CLAIMS_CHALLENGE: &str = r#"{
        "error": "interaction_required",
        "error_description": "AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access 'bf8d80f9-9098-4972-b203-500f535113b1'.\r\nTrace ID: b72a68c3-0926-4b8e-bc35-3150069c2800\r\nCorrelation ID: 73d656cf-54b1-4eb2-b429-26d8165a52d7\r\nTimestamp: 2017-05-01 22:43:20Z",
        "error_codes": [50079],
        "timestamp": "2017-05-01 22:43:20Z",
        "trace_id": "b72a68c3-0926-4b8e-bc35-3150069c2800",
        "correlation_id": "73d656cf-54b1-4eb2-b429-26d8165a52d7",
        "claims": "{\"access_token\":{\"polids\":{\"essential\":true,\"values\":[\"9ab03e19-ed42-4168-b6b7-7001fb3e933a\"]}}}"
    }"#;

    #[test]
    fn parses_entra_on_behalf_of_answers() {
        let tokens = interpret(response(200, ENTRA_OBO_RESPONSE, None)).unwrap();
        assert_eq!((tokens.expires_in, tokens.ext_expires_in), (Some(3269), Some(0)));
        assert!(tokens.access_token.expose().ends_with(".obo.sig"));
        let Err(TokenError::Rejected { error, .. }) = interpret(response(400, ENTRA_OBO_INVALID_ASSERTION, None))
        else {
            panic!("a rejection")
        };
        assert_eq!((error.error.as_str(), error.error_codes.as_slice()), ("invalid_grant", &[50013][..]));
        let Err(TokenError::Rejected { error, .. }) = interpret(response(400, ENTRA_OBO_CLAIMS_CHALLENGE, None)) else {
            panic!("a rejection")
        };
        assert_eq!(error.error, "interaction_required");
        let claims: serde_json::Value = serde_json::from_str(error.claims.as_deref().unwrap()).unwrap();
        assert_eq!(claims["access_token"]["polids"]["essential"], true);
    }

    #[test]
    fn a_token_exchange_must_issue_an_access_token() {
        let issued = |kind: &str| {
            let body = format!(r#"{{"access_token":"x","token_type":"N_A","issued_token_type":"{kind}"}}"#);
            check_issued_token_type(&response(200, &body, None))
        };
        assert!(issued(ACCESS_TOKEN_TYPE).is_ok());
        assert!(matches!(
            issued("urn:ietf:params:oauth:token-type:id_token"),
            Err(TokenError::UnsupportedTokenType { .. })
        ));
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_first() {
        assert_eq!(form_urlencode("a b+c:d/é"), "a+b%2Bc%3Ad%2F%C3%A9");
    }
}
