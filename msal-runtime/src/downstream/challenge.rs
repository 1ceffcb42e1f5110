//! Reading an API's `WWW-Authenticate` answer (RFC 9110 §11.6.1; RFC 6750 §3 for Bearer): which challenge it
//! makes of the caller. The challenge list is parsed by the `http-auth` crate (a fuzz-tested state machine of
//! the RFC's grammar); this file says what a Bearer challenge asks for, and refuses what it cannot use.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, StatusCode, header::WWW_AUTHENTICATE};

use crate::acquire::access_token::AccessToken;
use crate::scope::set::ScopeSet;

/// The longest `WWW-Authenticate` read, all values together: real challenges are a few hundred bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The longest claims request passed on, decoded: what `/auth/signin` accepts as `claims`.
pub(crate) const MAX_CLAIMS_BYTES: usize = 8 * 1024;

/// Why an API's challenge could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The header is not a challenge list (RFC 9110 §11.6.1), or longer than 16 KiB.
    #[error("the API's WWW-Authenticate header is malformed")]
    Malformed,
    /// An `insufficient_claims` challenge without a usable `claims` (base64 of a JSON object, at most 8 KiB).
    #[error("the API's claims challenge carries no usable claims")]
    Claims,
    /// An `insufficient_scope` challenge whose `scope` is not a list of scopes.
    #[error("the API's insufficient_scope challenge names no valid scopes")]
    Scope,
}

/// The API wants a token with more claims (OpenID Connect Core §5.5): the user re-authenticates with them.
#[derive(Debug, Clone)]
pub struct ClaimsChallenge {
    claims: String,
    /// The token the API refused, once [`AccessToken::call`] knows it.
    pub(crate) refused: Option<AccessToken>,
}

impl ClaimsChallenge {
    /// The claims request (JSON) to pass to the provider as `claims`.
    pub fn claims(&self) -> &str {
        &self.claims
    }
}

/// The API wants scopes the token lacks (RFC 6750 §3.1): the user consents to them.
#[derive(Debug, Clone)]
pub struct InsufficientScope {
    scopes: Option<ScopeSet>,
    pub(crate) refused: Option<AccessToken>,
}

impl InsufficientScope {
    /// The scopes the API named, when it named them.
    pub fn scopes(&self) -> Option<&ScopeSet> {
        self.scopes.as_ref()
    }
}

/// What an API's answer asks of the caller.
#[derive(Debug, Clone)]
pub(crate) enum Challenge {
    Claims(ClaimsChallenge),
    Scope(InsufficientScope),
}

/// The challenge of an API's `401` or `403` answer, if it makes one the runtime can answer; `Ok(None)` for
/// any other answer (the app decides what it means).
pub(crate) fn challenge_of(status: StatusCode, headers: &HeaderMap) -> Result<Option<Challenge>, ChallengeError> {
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return Ok(None);
    }
    for params in bearer_challenges(headers)? {
        let param = |name: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        match param("error").map(String::as_str) {
            Some("insufficient_claims") => {
                let claims = param("claims").ok_or(ChallengeError::Claims)?;
                let claims = decode_claims(claims)?;
                return Ok(Some(Challenge::Claims(ClaimsChallenge { claims, refused: None })));
            }
            Some("insufficient_scope") => {
                let scopes = match param("scope") {
                    Some(scope) => Some(ScopeSet::parse(scope).map_err(|_| ChallengeError::Scope)?),
                    None => None,
                };
                return Ok(Some(Challenge::Scope(InsufficientScope { scopes, refused: None })));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The parameters of each `Bearer` challenge of every `WWW-Authenticate` value, unescaped.
fn bearer_challenges(headers: &HeaderMap) -> Result<Vec<Vec<(String, String)>>, ChallengeError> {
    let mut total = 0;
    let mut found = Vec::new();
    for value in headers.get_all(WWW_AUTHENTICATE) {
        total += value.len();
        if total > MAX_HEADER_BYTES {
            return Err(ChallengeError::Malformed);
        }
        let value = value.to_str().map_err(|_| ChallengeError::Malformed)?;
        for challenge in http_auth::parser::ChallengeParser::new(value) {
            let challenge = challenge.map_err(|_| ChallengeError::Malformed)?;
            if challenge.scheme.eq_ignore_ascii_case("Bearer") {
                let params = challenge.params.iter().map(|(key, value)| ((*key).to_owned(), value.to_unescaped()));
                found.push(params.collect());
            }
        }
    }
    Ok(found)
}

/// The claims request of a challenge: base64 of JSON as Entra sends it (standard alphabet, padded); the
/// URL-safe alphabet without padding is accepted too. It must be a JSON object.
fn decode_claims(encoded: &str) -> Result<String, ChallengeError> {
    let bytes = STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
        .map_err(|_| ChallengeError::Claims)?;
    if bytes.len() > MAX_CLAIMS_BYTES {
        return Err(ChallengeError::Claims);
    }
    let json = String::from_utf8(bytes).map_err(|_| ChallengeError::Claims)?;
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(_)) => Ok(json),
        _ => Err(ChallengeError::Claims),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use http::HeaderValue;

    use super::*;

    pub(crate) fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    /// The claims of an Entra claims challenge (continuous access evaluation: a token issued before the
    /// user's session was revoked), as Microsoft documents it.
    pub(crate) const ENTRA_CLAIMS: &str = r#"{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}"#;

    fn claims_of(status: StatusCode, values: &[&str]) -> Result<Option<Challenge>, ChallengeError> {
        challenge_of(status, &headers(values))
    }

    #[test]
    fn reads_entras_claims_challenge() {
        let header = format!(
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
             client_id=\"00000003-0000-0000-c000-000000000000\", error=\"insufficient_claims\", claims=\"{}\"",
            STANDARD.encode(ENTRA_CLAIMS)
        );
        let Some(Challenge::Claims(challenge)) = claims_of(StatusCode::UNAUTHORIZED, &[&header]).unwrap() else {
            panic!("a claims challenge")
        };
        assert_eq!(challenge.claims(), ENTRA_CLAIMS);
    }

    #[test]
    fn reads_rfc6750_errors_and_several_schemes() {
        // RFC 6750 §3: an expired token is the app's to handle (no challenge the runtime answers).
        let expired = r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#;
        assert!(claims_of(StatusCode::UNAUTHORIZED, &[expired]).unwrap().is_none());
        // RFC 6750 §3.1: insufficient_scope, with the scopes needed.
        let scope = r#"Bearer realm="example", error="insufficient_scope", scope="Mail.Send Mail.Read""#;
        let Some(Challenge::Scope(needed)) = claims_of(StatusCode::FORBIDDEN, &[scope]).unwrap() else { panic!() };
        assert_eq!(needed.scopes(), Some(&ScopeSet::parse("Mail.Read Mail.Send").unwrap()));
        let unnamed = r#"Bearer error="insufficient_scope""#;
        let Some(Challenge::Scope(needed)) = claims_of(StatusCode::FORBIDDEN, &[unnamed]).unwrap() else { panic!() };
        assert_eq!(needed.scopes(), None);
        // Several schemes in one value and over several values; Bearer's name in any case; empty elements.
        let several = format!(
            r#"Basic realm="x", , Newauth realm="apps", type=1, title="Login to \"apps\"", bEaReR error="insufficient_claims", claims="{}""#,
            URL_SAFE_NO_PAD.encode(ENTRA_CLAIMS)
        );
        assert!(matches!(claims_of(StatusCode::UNAUTHORIZED, &[&several]).unwrap(), Some(Challenge::Claims(_))));
        let split = [r#"Basic realm="x""#, r#"Bearer realm="", error="insufficient_scope""#];
        assert!(matches!(claims_of(StatusCode::FORBIDDEN, &split).unwrap(), Some(Challenge::Scope(_))));
        // A bare `Bearer realm=""` asks for nothing the runtime answers; other statuses are not challenges.
        assert!(claims_of(StatusCode::UNAUTHORIZED, &[r#"Bearer realm="""#]).unwrap().is_none());
        assert!(claims_of(StatusCode::UNAUTHORIZED, &["Bearer"]).unwrap().is_none());
        assert!(claims_of(StatusCode::UNAUTHORIZED, &[]).unwrap().is_none());
        assert!(claims_of(StatusCode::INTERNAL_SERVER_ERROR, &[scope]).unwrap().is_none());
    }

    #[test]
    fn refuses_malformed_challenges_and_claims() {
        for malformed in [
            r#"Bearer error="insufficient_claims"#,
            r#"Bearer error=insufficient_claims claims"#,
            "Bearer ===",
            r#"Bearer realm="a", "quoted""#,
            "Bearer realm=\"caf\u{e9}\"",
            r#", , realm="no scheme""#,
        ] {
            let mut headers = HeaderMap::new();
            let Ok(value) = HeaderValue::from_str(malformed) else { continue };
            headers.insert(WWW_AUTHENTICATE, value);
            assert_eq!(
                challenge_of(StatusCode::UNAUTHORIZED, &headers).err(),
                Some(ChallengeError::Malformed),
                "{malformed}"
            );
        }
        let huge = format!("Bearer realm=\"{}\"", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(claims_of(StatusCode::UNAUTHORIZED, &[&huge]).err(), Some(ChallengeError::Malformed));
        for claims in ["", "not base64!", &STANDARD.encode("[1, 2]"), &STANDARD.encode("{not json")] {
            let header = format!(r#"Bearer error="insufficient_claims", claims="{claims}""#);
            assert_eq!(claims_of(StatusCode::UNAUTHORIZED, &[&header]).err(), Some(ChallengeError::Claims), "{claims}");
        }
        let too_long = STANDARD.encode(format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_CLAIMS_BYTES)));
        let header = format!(r#"Bearer error="insufficient_claims", claims="{too_long}""#);
        assert_eq!(claims_of(StatusCode::UNAUTHORIZED, &[&header]).err(), Some(ChallengeError::Claims));
        let no_claims = r#"Bearer error="insufficient_claims""#;
        assert_eq!(claims_of(StatusCode::UNAUTHORIZED, &[no_claims]).err(), Some(ChallengeError::Claims));
        let bad_scope = r#"Bearer error="insufficient_scope", scope="Mail.Read \"x""#;
        assert_eq!(claims_of(StatusCode::FORBIDDEN, &[bad_scope]).err(), Some(ChallengeError::Scope));
    }
}
