//! Access tokens as a provider signs them, for an app whose tests run a real downstream API in process: the
//! in-memory provider signs them with a key of its own (published at its `jwks_uri`), and
//! [`TestMsal::protected_api`](crate::testing::TestMsal::protected_api) is a [`ProtectedApi`] trusting it.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::unix_now;
use crate::scope::set::ScopeSet;

/// The in-memory provider's signing key: a P-256 key made for these tests and nothing else (it is in the
/// source, so a token it signs proves nothing outside a test).
const SIGNING_KEY: &[u8] = include_bytes!("signing-key.pem");
/// Its public half, as the in-memory provider's JWKS publishes it.
const KEY_ID: &str = "msal-testing";
const PUBLIC_X: &str = "izVh4Xk0kuGRBd4qyoao6_45mDcKe6eslM_RLg7SgZg";
const PUBLIC_Y: &str = "XXqvB4EOWVETWVqz9lM3kk6E7mCXwxulDBRt6t5WbxY";

/// The JWKS of the in-memory provider.
pub(crate) fn jwks() -> Value {
    json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KEY_ID, "x": PUBLIC_X, "y": PUBLIC_Y,
    }] })
}

/// The claims of an access token as RFC 9068 §2.2 describes them, scopes in `scp` as Entra writes them.
#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    scp: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
}

/// What a signed access token says.
pub(crate) struct Signing<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) name: Option<&'a str>,
    pub(crate) username: Option<&'a str>,
    pub(crate) audience: &'a str,
    pub(crate) scopes: &'a ScopeSet,
    pub(crate) lifetime: Duration,
}

/// An ES256 JWS typed `at+jwt` (RFC 9068 §2.1), signed with the in-memory provider's key.
pub(crate) fn sign(token: &Signing<'_>) -> String {
    let now = unix_now();
    let claims = AccessTokenClaims {
        iss: token.issuer,
        sub: token.subject,
        aud: token.audience,
        azp: token.client_id,
        scp: token.scopes.to_scope_string(),
        iat: now,
        nbf: now,
        exp: now + token.lifetime.as_secs(),
        name: token.name,
        preferred_username: token.username,
    };
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(KEY_ID.to_owned());
    header.typ = Some("at+jwt".to_owned());
    let key = EncodingKey::from_ec_pem(SIGNING_KEY).expect("the test signing key is a valid P-256 key");
    jsonwebtoken::encode(&header, &claims, &key).expect("plain claims sign")
}
