//! [`InsufficientClaims`]: the claims challenge an API answers with when a valid token is no longer enough
//! (a revoked session, a policy that now needs more): `401` with `WWW-Authenticate: Bearer
//! error="insufficient_claims", claims="<base64 JSON>"`, the shape Entra-protected APIs use for continuous
//! access evaluation, which the caller's runtime turns into a re-authentication with those claims.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, StatusCode};
use serde_json::json;

/// A claims challenge to answer a caller with.
#[derive(Debug, Clone)]
pub struct InsufficientClaims {
    claims: serde_json::Value,
}

impl InsufficientClaims {
    /// A challenge for a token with these claims (an OpenID Connect Core §5.5 claims request).
    pub fn new(claims: serde_json::Value) -> Self {
        Self { claims }
    }

    /// A challenge for a token issued at or after `unix_seconds`, as Entra's continuous access evaluation
    /// asks after a revocation: `{"access_token":{"nbf":{"essential":true,"value":"<seconds>"}}}`.
    pub fn issued_since(unix_seconds: u64) -> Self {
        Self::new(json!({ "access_token": { "nbf": { "essential": true, "value": unix_seconds.to_string() } } }))
    }

    /// The claims request.
    pub fn claims(&self) -> &serde_json::Value {
        &self.claims
    }
}

impl IntoResponse for InsufficientClaims {
    fn into_response(self) -> Response {
        let claims = STANDARD.encode(self.claims.to_string());
        let challenge = format!(
            "Bearer realm=\"\", error=\"insufficient_claims\", \
             error_description=\"the token must be renewed with the claims requested\", claims=\"{claims}\""
        );
        let challenge = HeaderValue::from_str(&challenge).expect("base64 and fixed text are a header value");
        (StatusCode::UNAUTHORIZED, [(WWW_AUTHENTICATE, challenge)]).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::downstream::challenge::{Challenge, challenge_of};

    #[test]
    fn the_challenge_reads_back_as_the_claims_it_asks_for() {
        let response = InsufficientClaims::issued_since(1_800_000_000).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let Ok(Some(Challenge::Claims(read))) = challenge_of(response.status(), response.headers()) else {
            panic!("a claims challenge")
        };
        let claims: serde_json::Value = serde_json::from_str(read.claims()).unwrap();
        assert_eq!(claims["access_token"]["nbf"]["value"], "1800000000");
        assert_eq!(claims["access_token"]["nbf"]["essential"], true);
    }
}
