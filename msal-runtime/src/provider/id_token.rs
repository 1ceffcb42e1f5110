//! ID token validation: OpenID Connect Core §3.1.3.7 and §12.2, RFC 8725, docs/SECURITY.md §11–§14.
//!
//! The signature is verified by `jsonwebtoken` with a key from the provider's JWKS; every claim rule is
//! checked here, so that each failure has its own typed error and test.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::provider::authority::{IssuerMismatch, IssuerPolicy};
use crate::provider::jws::{self, JwsError};
use crate::provider::signing_keys::SigningKeys;

/// The algorithms accepted unless configured otherwise: asymmetric only (RFC 8725 §3.1).
pub(crate) const DEFAULT_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

impl From<JwsError> for IdTokenError {
    fn from(error: JwsError) -> Self {
        match error {
            JwsError::Malformed => IdTokenError::Malformed,
            JwsError::AlgorithmNotAllowed { alg } => IdTokenError::AlgorithmNotAllowed { alg },
            JwsError::UnknownSigningKey { kid } => IdTokenError::UnknownSigningKey { kid },
            JwsError::BadSignature => IdTokenError::BadSignature,
        }
    }
}

/// Why an ID token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Not a JWS compact serialization, or its header or claims are not the JSON they should be.
    #[error("the ID token is malformed")]
    Malformed,
    /// `alg` is not on the allowlist (`none`, HMAC, or one the client did not register).
    #[error("the ID token is signed with {alg:?}, which is not allowed")]
    AlgorithmNotAllowed {
        /// The header's `alg`.
        alg: String,
    },
    /// No key of the provider's JWKS matches the header, even after re-fetching it.
    #[error("the ID token's signing key {kid:?} is not among the provider's keys")]
    UnknownSigningKey {
        /// The header's `kid`.
        kid: Option<String>,
    },
    /// The signature does not verify.
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// A required claim is absent or empty.
    #[error("the ID token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("the ID token's issuer is wrong: {0}")]
    Issuer(IssuerMismatch),
    /// `aud` does not contain the client id.
    #[error("the ID token was not issued to this client")]
    NotForThisClient,
    /// `aud` names a party that is not trusted.
    #[error("the ID token's audience {audience:?} is not trusted")]
    UntrustedAudience {
        /// The untrusted audience.
        audience: String,
    },
    /// `azp` is absent with several audiences, or is not the client id.
    #[error("the ID token's authorized party (azp) is missing or not this client")]
    AuthorizedParty,
    /// `exp` has passed.
    #[error("the ID token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("the ID token is not valid yet")]
    NotYetValid,
    /// `nonce` differs from the one sent with the sign-in (replay or injection).
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    /// `sub` is longer than 255 characters or not ASCII (OpenID Connect Core §2).
    #[error("the ID token's subject is invalid")]
    InvalidSubject,
    /// A refreshed ID token names another user than the one whose refresh token was used (docs/SECURITY.md §14).
    #[error("the refreshed ID token is for another user")]
    DifferentUser,
}

/// What the token must match besides the static rules.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect<'a> {
    /// From a code redemption: `nonce` must equal the one sent.
    SignIn { nonce: &'a str },
    /// From a refresh: no nonce; the caller checks that it names the same account (docs/SECURITY.md §14).
    Refresh,
}

/// The static rules: who we are and what we accept.
#[derive(Debug, Clone)]
pub(crate) struct IdTokenRules {
    pub(crate) client_id: String,
    pub(crate) issuer: IssuerPolicy,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) clock_skew: Duration,
}

/// The claims this crate reads. Unknown claims are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IdTokenClaims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    #[serde(default)]
    pub(crate) aud: Audience,
    pub(crate) exp: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) nonce: Option<String>,
    pub(crate) azp: Option<String>,
    /// Entra: tenant id.
    pub(crate) tid: Option<String>,
    /// Entra: object id of the user in the tenant.
    pub(crate) oid: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) preferred_username: Option<String>,
    /// ADFS and older Entra tokens.
    pub(crate) upn: Option<String>,
    pub(crate) email: Option<String>,
    /// Entra: the value to send as `login_hint` to skip account selection.
    pub(crate) login_hint: Option<String>,
}

impl IdTokenClaims {
    /// `sub`, present after validation.
    pub(crate) fn subject(&self) -> &str {
        self.sub.as_deref().unwrap_or_default()
    }

    /// `iss`, present after validation.
    pub(crate) fn issuer(&self) -> &str {
        self.iss.as_deref().unwrap_or_default()
    }
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn values(&self) -> &[String] {
        match self {
            Audience::None => &[],
            Audience::One(one) => std::slice::from_ref(one),
            Audience::Many(many) => many,
        }
    }
}

/// Seconds since the epoch; JSON allows fractions (RFC 7519 §2), which are floored.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct NumericDate(pub(crate) i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if !value.is_finite() || value.abs() > 1e15 {
            return Err(serde::de::Error::custom("a NumericDate out of range"));
        }
        Ok(NumericDate(value.floor() as i64))
    }
}

impl IdTokenRules {
    /// Validates `raw` completely and returns its claims; `now` is seconds since the epoch.
    pub(crate) async fn validate(
        &self,
        keys: &SigningKeys,
        raw: &str,
        expect: Expect<'_>,
        now: i64,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let (_, claims) = jws::verify(raw, keys, &self.algorithms).await?;
        self.check_claims(&claims, expect, now)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &IdTokenClaims, expect: Expect<'_>, now: i64) -> Result<(), IdTokenError> {
        let skew = self.clock_skew.as_secs() as i64;
        let iss = claims.iss.as_deref().filter(|s| !s.is_empty()).ok_or(IdTokenError::MissingClaim("iss"))?;
        self.issuer.check_token_issuer(iss, claims.tid.as_deref()).map_err(IdTokenError::Issuer)?;

        let audiences = claims.aud.values();
        if audiences.is_empty() {
            return Err(IdTokenError::MissingClaim("aud"));
        }
        if !audiences.contains(&self.client_id) {
            return Err(IdTokenError::NotForThisClient);
        }
        if let Some(other) = audiences.iter().find(|aud| **aud != self.client_id) {
            return Err(IdTokenError::UntrustedAudience { audience: other.clone() });
        }
        // Core §3.1.3.7 (4, 5): with several audiences `azp` must be present; when present it must be us.
        match claims.azp.as_deref() {
            Some(azp) if azp != self.client_id => return Err(IdTokenError::AuthorizedParty),
            None if audiences.len() > 1 => return Err(IdTokenError::AuthorizedParty),
            _ => {}
        }

        let exp = claims.exp.ok_or(IdTokenError::MissingClaim("exp"))?;
        if exp.0 + skew <= now {
            return Err(IdTokenError::Expired);
        }
        let iat = claims.iat.ok_or(IdTokenError::MissingClaim("iat"))?;
        if iat.0 > now + skew || claims.nbf.is_some_and(|nbf| nbf.0 > now + skew) {
            return Err(IdTokenError::NotYetValid);
        }

        let sub = claims.sub.as_deref().filter(|s| !s.is_empty()).ok_or(IdTokenError::MissingClaim("sub"))?;
        if sub.len() > 255 || !sub.is_ascii() {
            return Err(IdTokenError::InvalidSubject);
        }

        match expect {
            Expect::SignIn { nonce } => match claims.nonce.as_deref() {
                None => return Err(IdTokenError::MissingClaim("nonce")),
                Some(found) if found != nonce => return Err(IdTokenError::NonceMismatch),
                Some(_) => {}
            },
            Expect::Refresh => {}
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::provider::authority::Authority;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::{Value, json};

    pub(crate) const CLIENT_ID: &str = "client-123";
    pub(crate) const ISSUER: &str = "https://idp.example";
    pub(crate) const NOW: i64 = 1_800_000_000;

    pub(crate) fn rsa_a() -> EncodingKey {
        EncodingKey::from_rsa_pem(include_bytes!("../../testdata/rsa-a.pem")).unwrap()
    }

    fn rsa_b() -> EncodingKey {
        EncodingKey::from_rsa_pem(include_bytes!("../../testdata/rsa-b.pem")).unwrap()
    }

    fn ec() -> EncodingKey {
        EncodingKey::from_ec_pem(include_bytes!("../../testdata/ec-p256.pem")).unwrap()
    }

    fn jwk(file: &str, kid: Option<&str>) -> Value {
        let mut jwk: Value = serde_json::from_str(file).unwrap();
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        jwk
    }

    pub(crate) fn rsa_a_jwk(kid: Option<&str>) -> Value {
        jwk(include_str!("../../testdata/rsa-a.jwk.json"), kid)
    }

    pub(crate) fn keys(jwks: Vec<Value>) -> SigningKeys {
        SigningKeys::with_keys(jwks)
    }

    pub(crate) fn default_keys() -> SigningKeys {
        keys(vec![
            rsa_a_jwk(Some("a")),
            jwk(include_str!("../../testdata/rsa-b.jwk.json"), Some("b")),
            jwk(include_str!("../../testdata/ec-p256.jwk.json"), Some("ec")),
        ])
    }

    pub(crate) fn rules() -> IdTokenRules {
        let authority = Authority::parse(ISSUER).unwrap();
        IdTokenRules {
            client_id: CLIENT_ID.into(),
            issuer: authority.issuer_policy(ISSUER).unwrap(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            clock_skew: Duration::from_secs(60),
        }
    }

    pub(crate) fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "alice", "aud": CLIENT_ID, "exp": NOW + 3600, "iat": NOW,
            "nonce": "nonce-1", "name": "Alice", "preferred_username": "alice@example.test"
        })
    }

    pub(crate) fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, key).unwrap()
    }

    /// `claims` with `changes` applied: a value replaces, `null` removes.
    pub(crate) fn changed(mut claims: Value, changes: Value) -> Value {
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    fn with(changes: Value) -> Value {
        changed(claims(), changes)
    }

    fn run(token: &str) -> Result<IdTokenClaims, IdTokenError> {
        run_with(&rules(), &default_keys(), token, Expect::SignIn { nonce: "nonce-1" })
    }

    fn run_with(
        rules: &IdTokenRules,
        keys: &SigningKeys,
        token: &str,
        expect: Expect<'_>,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(rules.validate(keys, token, expect, NOW))
    }

    fn signed(claims: &Value) -> String {
        sign(Algorithm::RS256, Some("a"), &rsa_a(), claims)
    }

    fn unsigned(header: Value, claims: &Value) -> String {
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}.", part(&header), part(claims))
    }

    #[test]
    fn accepts_a_valid_token_with_every_allowed_algorithm() {
        let validated = run(&signed(&claims())).unwrap();
        assert_eq!(validated.subject(), "alice");
        assert_eq!(validated.name.as_deref(), Some("Alice"));
        assert!(run(&sign(Algorithm::PS256, Some("b"), &rsa_b(), &claims())).is_ok());
        assert!(run(&sign(Algorithm::ES256, Some("ec"), &ec(), &claims())).is_ok());
    }

    #[test]
    fn rejects_alg_none_hmac_and_unlisted_algorithms() {
        let none = unsigned(json!({"alg": "none", "kid": "a"}), &claims());
        assert_eq!(run(&none).unwrap_err(), IdTokenError::AlgorithmNotAllowed { alg: "none".into() });
        // The classic confusion attack: HS256 with the provider's public key as the HMAC secret.
        let public_pem = include_bytes!("../../testdata/rsa-a.public.pem");
        let hs = sign(Algorithm::HS256, Some("a"), &EncodingKey::from_secret(public_pem), &claims());
        assert_eq!(run(&hs).unwrap_err(), IdTokenError::AlgorithmNotAllowed { alg: "HS256".into() });
        let rs384 = sign(Algorithm::RS384, Some("a"), &rsa_a(), &claims());
        assert_eq!(run(&rs384).unwrap_err(), IdTokenError::AlgorithmNotAllowed { alg: "RS384".into() });
        // An allowlist narrowed to what the client registered refuses the rest.
        let only_rs256 = IdTokenRules { algorithms: vec![Algorithm::RS256], ..rules() };
        let ps256 = sign(Algorithm::PS256, Some("b"), &rsa_b(), &claims());
        assert!(matches!(
            run_with(&only_rs256, &default_keys(), &ps256, Expect::SignIn { nonce: "nonce-1" }),
            Err(IdTokenError::AlgorithmNotAllowed { .. })
        ));
    }

    #[test]
    fn rejects_bad_signatures_unknown_keys_and_garbage() {
        // Signed by key b but claiming to be key a.
        assert_eq!(
            run(&sign(Algorithm::RS256, Some("a"), &rsa_b(), &claims())).unwrap_err(),
            IdTokenError::BadSignature
        );
        let token = signed(&claims());
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with(json!({"sub": "mallory"}))).unwrap());
        assert_eq!(run(&format!("{head}.{forged_claims}.{signature}")).unwrap_err(), IdTokenError::BadSignature);
        assert_eq!(
            run(&sign(Algorithm::RS256, Some("zzz"), &rsa_a(), &claims())).unwrap_err(),
            IdTokenError::UnknownSigningKey { kid: Some("zzz".into()) }
        );
        // An RSA `kid` with an EC algorithm finds no key.
        assert!(matches!(
            run(&sign(Algorithm::ES256, Some("a"), &ec(), &claims())),
            Err(IdTokenError::UnknownSigningKey { .. })
        ));
        for garbage in
            ["", "a.b", "a.b.c.d", "!!!.b.c", "e30.e30.", &format!("{}.e30.e30", URL_SAFE_NO_PAD.encode("[1]"))]
        {
            assert_eq!(run(garbage).unwrap_err(), IdTokenError::Malformed, "{garbage:?}");
        }
    }

    #[test]
    fn without_kid_one_key_is_used_and_several_are_tried() {
        let one = keys(vec![rsa_a_jwk(None)]);
        let token = sign(Algorithm::RS256, None, &rsa_a(), &claims());
        assert!(run_with(&rules(), &one, &token, Expect::SignIn { nonce: "nonce-1" }).is_ok());
        let several = keys(vec![jwk(include_str!("../../testdata/rsa-b.jwk.json"), None), rsa_a_jwk(None)]);
        assert!(run_with(&rules(), &several, &token, Expect::SignIn { nonce: "nonce-1" }).is_ok());
        let wrong = sign(
            Algorithm::RS256,
            None,
            &EncodingKey::from_rsa_pem(include_bytes!("../../testdata/rsa-b.pem")).unwrap(),
            &claims(),
        );
        assert_eq!(
            run_with(&rules(), &one, &wrong, Expect::SignIn { nonce: "nonce-1" }).unwrap_err(),
            IdTokenError::BadSignature
        );
    }

    #[test]
    fn checks_issuer_audience_and_authorized_party() {
        assert!(matches!(run(&signed(&with(json!({"iss": "https://evil.example"})))), Err(IdTokenError::Issuer(_))));
        assert_eq!(run(&signed(&with(json!({"iss": null})))).unwrap_err(), IdTokenError::MissingClaim("iss"));
        assert_eq!(run(&signed(&with(json!({"aud": "someone-else"})))).unwrap_err(), IdTokenError::NotForThisClient);
        assert_eq!(run(&signed(&with(json!({"aud": null})))).unwrap_err(), IdTokenError::MissingClaim("aud"));
        assert_eq!(
            run(&signed(&with(json!({"aud": [CLIENT_ID, "other"], "azp": CLIENT_ID})))).unwrap_err(),
            IdTokenError::UntrustedAudience { audience: "other".into() }
        );
        assert!(run(&signed(&with(json!({"aud": [CLIENT_ID]})))).is_ok());
        assert!(run(&signed(&with(json!({"azp": CLIENT_ID})))).is_ok());
        assert_eq!(run(&signed(&with(json!({"azp": "other"})))).unwrap_err(), IdTokenError::AuthorizedParty);
    }

    #[test]
    fn checks_times_with_clock_skew() {
        assert_eq!(run(&signed(&with(json!({"exp": NOW - 61})))).unwrap_err(), IdTokenError::Expired);
        assert!(run(&signed(&with(json!({"exp": NOW - 30})))).is_ok(), "within the 60 s skew");
        assert_eq!(run(&signed(&with(json!({"exp": null})))).unwrap_err(), IdTokenError::MissingClaim("exp"));
        assert_eq!(run(&signed(&with(json!({"iat": null})))).unwrap_err(), IdTokenError::MissingClaim("iat"));
        assert_eq!(run(&signed(&with(json!({"iat": NOW + 600})))).unwrap_err(), IdTokenError::NotYetValid);
        assert_eq!(run(&signed(&with(json!({"nbf": NOW + 600})))).unwrap_err(), IdTokenError::NotYetValid);
        assert!(run(&signed(&with(json!({"iat": NOW as f64 + 0.5, "nbf": NOW - 1})))).is_ok());
        assert_eq!(run(&signed(&with(json!({"exp": "tomorrow"})))).unwrap_err(), IdTokenError::Malformed);
    }

    #[test]
    fn checks_subject_and_nonce() {
        assert_eq!(run(&signed(&with(json!({"sub": null})))).unwrap_err(), IdTokenError::MissingClaim("sub"));
        assert_eq!(run(&signed(&with(json!({"sub": ""})))).unwrap_err(), IdTokenError::MissingClaim("sub"));
        assert_eq!(run(&signed(&with(json!({"sub": "x".repeat(256)})))).unwrap_err(), IdTokenError::InvalidSubject);
        assert_eq!(run(&signed(&with(json!({"nonce": null})))).unwrap_err(), IdTokenError::MissingClaim("nonce"));
        assert_eq!(run(&signed(&with(json!({"nonce": "other"})))).unwrap_err(), IdTokenError::NonceMismatch);
    }

    #[test]
    fn refreshed_tokens_need_no_nonce() {
        let refreshed = signed(&with(json!({"nonce": null})));
        assert!(run_with(&rules(), &default_keys(), &refreshed, Expect::Refresh).is_ok());
        assert_eq!(run(&refreshed).unwrap_err(), IdTokenError::MissingClaim("nonce"));
    }

    #[test]
    fn entra_multi_tenant_tokens_are_checked_against_tid() {
        let authority = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        let rules = IdTokenRules {
            issuer: authority.issuer_policy("https://login.microsoftonline.com/{tenantid}/v2.0").unwrap(),
            ..rules()
        };
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
        let expect = Expect::SignIn { nonce: "nonce-1" };
        let good = signed(&with(json!({"iss": iss, "tid": tid})));
        assert!(run_with(&rules, &default_keys(), &good, expect).is_ok());
        let other_tenant = signed(&with(json!({"iss": iss, "tid": "00000000-0000-0000-0000-000000000001"})));
        assert!(matches!(run_with(&rules, &default_keys(), &other_tenant, expect), Err(IdTokenError::Issuer(_))));
        let no_tid = signed(&with(json!({"iss": iss})));
        assert!(matches!(run_with(&rules, &default_keys(), &no_tid, expect), Err(IdTokenError::Issuer(_))));
    }
}
