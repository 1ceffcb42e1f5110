//! Web APIs: validating the bearer access tokens that apps send (RFC 6750; JWT access tokens per RFC 9068 and
//! Entra's v2.0 format). Same discovery, signing keys and JWS verification as sign-in; the access-token rules
//! are here: issuer, audience, times, and the scopes in `scp` (Entra) or `scope` (RFC 9068).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::clock::unix_now;
use crate::provider::authority::{Authority, IssuerPolicy};
use crate::provider::discovery::discover;
use crate::provider::http::ProviderHttp;
use crate::provider::id_token::{Audience, DEFAULT_ALGORITHMS, NumericDate};
use crate::provider::jws::{self, JwsError};
use crate::provider::signing_keys::{KeyRefreshPolicy, SigningKeys};
use crate::scope::set::ScopeSet;
use crate::web_api::error::{BearerError, ProtectedApiError};

/// Who called the API, from a validated access token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    subject: String,
    scopes: ScopeSet,
    client_id: Option<String>,
    tenant_id: Option<String>,
    object_id: Option<String>,
    issued_at: Option<u64>,
}

impl ApiCaller {
    /// The user (`sub`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the token was issued (`iat`, Unix seconds), when it says: an API that revokes sessions refuses
    /// tokens issued before the revocation with an [`InsufficientClaims`](crate::InsufficientClaims) challenge.
    pub fn issued_at(&self) -> Option<u64> {
        self.issued_at
    }

    /// The delegated scopes granted (`scp` or `scope`).
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }

    /// The calling app (`azp`, `client_id` or Entra's `appid`).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Entra: the tenant (`tid`).
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// Entra: the user's object id (`oid`), stable across apps of a tenant.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }
}

#[derive(Debug, Deserialize)]
struct AccessTokenClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    /// Entra: space-separated delegated scopes.
    scp: Option<String>,
    /// RFC 9068 §2.2.3.
    scope: Option<String>,
    azp: Option<String>,
    client_id: Option<String>,
    appid: Option<String>,
    tid: Option<String>,
    oid: Option<String>,
}

/// Validates bearer tokens for one API (cheap to clone). Handlers take the [`Bearer`](crate::Bearer)
/// extractor, which needs `ProtectedApi: FromRef<S>` for the router's state `S` (axum's convention for library
/// state), so a router that cannot reach the validator does not compile.
#[derive(Clone)]
pub struct ProtectedApi {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    keys: SigningKeys,
    issuer: IssuerPolicy,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    clock_skew: Duration,
}

impl fmt::Debug for ProtectedApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedApi")
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .finish()
    }
}

impl ProtectedApi {
    /// Trusts tokens of `authority` (an issuer URL or an Entra v2.0 authority) whose `aud` is one of
    /// `audiences` (Entra: the API's application id URI and/or client id).
    pub async fn new(authority: &str, audiences: &[&str]) -> Result<Self, ProtectedApiError> {
        let authority = Authority::parse(authority).map_err(ProtectedApiError::Authority)?;
        if audiences.iter().all(|audience| audience.trim().is_empty()) {
            return Err(ProtectedApiError::NoAudience);
        }
        let http = ProviderHttp::new(Duration::from_secs(10)).map_err(ProtectedApiError::HttpClient)?;
        let discovered = discover(&http, &authority, false).await?;
        let policy =
            KeyRefreshPolicy { min_interval: Duration::from_secs(60), max_age: Duration::from_secs(24 * 3600) };
        let keys = SigningKeys::fetch(http, discovered.metadata.jwks_uri.clone(), policy).await?;
        Ok(Self {
            inner: Arc::new(ApiInner {
                keys,
                issuer: discovered.issuer,
                audiences: audiences.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect(),
                algorithms: DEFAULT_ALGORITHMS.to_vec(),
                clock_skew: Duration::from_secs(120),
            }),
        })
    }

    /// Validates a bearer access token.
    pub async fn validate(&self, token: &str) -> Result<ApiCaller, BearerError> {
        let inner = &self.inner;
        let (header, claims) = jws::verify::<AccessTokenClaims>(token, &inner.keys, &inner.algorithms).await.map_err(
            |error| match error {
                JwsError::Malformed => BearerError::Malformed,
                _ => BearerError::Signature,
            },
        )?;
        // RFC 9068 §2.1 types access tokens `at+jwt`; Entra writes `JWT`. Anything else (an ID token
        // declaring itself, a logout token) is not accepted as an access token.
        if let Some(typ) = header.typ.as_deref()
            && !["at+jwt", "application/at+jwt", "jwt"].contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(BearerError::NotAnAccessToken);
        }
        let iss = claims.iss.as_deref().ok_or(BearerError::MissingClaim("iss"))?;
        inner.issuer.check_token_issuer(iss, claims.tid.as_deref()).map_err(BearerError::Issuer)?;
        if !claims.aud.values().iter().any(|aud| inner.audiences.contains(aud)) {
            return Err(BearerError::Audience);
        }
        let now = unix_now() as i64;
        let skew = inner.clock_skew.as_secs() as i64;
        let exp = claims.exp.ok_or(BearerError::MissingClaim("exp"))?;
        let not_yet = |date: Option<NumericDate>| date.is_some_and(|date| date.0 > now + skew);
        if exp.0 + skew <= now || not_yet(claims.nbf) || not_yet(claims.iat) {
            return Err(BearerError::Lifetime);
        }
        let subject = claims.sub.filter(|sub| !sub.is_empty()).ok_or(BearerError::MissingClaim("sub"))?;
        let scopes = claims
            .scp
            .or(claims.scope)
            .map(|scopes| ScopeSet::parse(&scopes).map_err(|_| BearerError::Malformed))
            .transpose()?
            .unwrap_or_default();
        Ok(ApiCaller {
            subject,
            scopes,
            client_id: claims.azp.or(claims.client_id).or(claims.appid),
            tenant_id: claims.tid,
            object_id: claims.oid,
            issued_at: claims.iat.map(|iat| iat.0.max(0) as u64),
        })
    }

    #[cfg(test)]
    pub(crate) fn for_tests(keys: SigningKeys, issuer: IssuerPolicy, audiences: &[&str]) -> Self {
        Self {
            inner: Arc::new(ApiInner {
                keys,
                issuer,
                audiences: audiences.iter().map(|a| a.to_string()).collect(),
                algorithms: DEFAULT_ALGORITHMS.to_vec(),
                clock_skew: Duration::from_secs(60),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::id_token::tests::{ISSUER, changed, default_keys, rsa_a, sign};
    use serde_json::{Value, json};

    fn api() -> ProtectedApi {
        let policy = Authority::parse(ISSUER).unwrap().issuer_policy(ISSUER).unwrap();
        ProtectedApi::for_tests(default_keys(), policy, &["api://mail-api"])
    }

    fn claims(changes: Value) -> Value {
        let now = unix_now() as i64;
        let claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": "api://mail-api", "exp": now + 600, "iat": now,
            "scope": "Mail.Read", "client_id": "mail-app"
        });
        changed(claims, changes)
    }

    fn token(typ: Option<&str>, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("a".into());
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &rsa_a()).unwrap()
    }

    fn validate(token: &str) -> Result<ApiCaller, BearerError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(api().validate(token))
    }

    #[test]
    fn accepts_rfc9068_and_entra_access_tokens() {
        let caller = validate(&token(Some("at+jwt"), &claims(json!({})))).unwrap();
        assert_eq!(caller.subject(), "alice");
        assert_eq!(caller.scopes(), &ScopeSet::parse("Mail.Read").unwrap());
        assert_eq!(caller.client_id(), Some("mail-app"));
        let entra = claims(json!({"scope": null, "scp": "Mail.Read Mail.Send", "azp": "app-guid", "client_id": null}));
        let caller = validate(&token(Some("JWT"), &entra)).unwrap();
        assert_eq!(caller.scopes().len(), 2);
        assert_eq!(caller.client_id(), Some("app-guid"));
    }

    #[test]
    fn refuses_what_is_not_an_access_token_for_this_api() {
        assert_eq!(
            validate(&token(Some("id_token+jwt"), &claims(json!({})))).unwrap_err(),
            BearerError::NotAnAccessToken
        );
        assert_eq!(validate(&token(None, &claims(json!({"aud": "mail-app"})))).unwrap_err(), BearerError::Audience);
        assert!(matches!(
            validate(&token(None, &claims(json!({"iss": "https://evil.example"})))),
            Err(BearerError::Issuer(_))
        ));
        let now = unix_now() as i64;
        assert_eq!(validate(&token(None, &claims(json!({"exp": now - 3600})))).unwrap_err(), BearerError::Lifetime);
        assert_eq!(validate(&token(None, &claims(json!({"nbf": now + 3600})))).unwrap_err(), BearerError::Lifetime);
        assert_eq!(
            validate(&token(None, &claims(json!({"sub": null})))).unwrap_err(),
            BearerError::MissingClaim("sub")
        );
        assert_eq!(validate("not.a.token").unwrap_err(), BearerError::Malformed);
        let forged =
            sign(Algorithm::HS256, Some("a"), &jsonwebtoken::EncodingKey::from_secret(b"k"), &claims(json!({})));
        assert_eq!(validate(&forged).unwrap_err(), BearerError::Signature);
    }
}
