//! ID tokens (`IdTokenRules::validate`) and bearer access tokens (`ProtectedApi::validate`), both through
//! `provider::jws`: whatever a token endpoint or an API caller sends, nothing panics, nothing is accepted
//! without a valid signature, and a signed token is accepted only when its claims follow the rules.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::cache_json::json_value;
use super::{block_on, config, tricky_string};
use crate::clock::unix_now;
use crate::provider::authority::Authority;
use crate::provider::id_token::tests::{CLIENT_ID, ISSUER, NOW, changed, claims, default_keys, rsa_a, rules};
use crate::provider::id_token::{Expect, IdTokenClaims, IdTokenError};
use crate::provider::signing_keys::SigningKeys;
use crate::scope::set::ScopeSet;
use crate::web_api::error::BearerError;
use crate::web_api::protected_api::{ApiCaller, ProtectedApi};

const NONCE: &str = "nonce-1";
const API_AUDIENCE: &str = "api://mail-api";
/// The clock skew of `rules()` and of `ProtectedApi::for_tests`.
const SKEW: i64 = 60;

/// The P-256 key whose public half `default_keys()` lists as `ec`: signing with it is far cheaper than RSA.
fn ec() -> EncodingKey {
    EncodingKey::from_ec_pem(include_bytes!("../../testdata/ec-p256.pem")).unwrap()
}

/// The provider's keys, built once: each set carries an HTTP client, and building one costs more than a case.
static KEYS: LazyLock<SigningKeys> = LazyLock::new(default_keys);

fn validate_id_token(raw: &str) -> Result<IdTokenClaims, IdTokenError> {
    block_on(rules().validate(&KEYS, raw, Expect::SignIn { nonce: NONCE }, NOW))
}

/// The web API under test, built once for the same reason as [`KEYS`].
pub(super) fn api() -> ProtectedApi {
    static API: LazyLock<ProtectedApi> = LazyLock::new(|| {
        let policy = Authority::parse(ISSUER).unwrap().issuer_policy(ISSUER).unwrap();
        ProtectedApi::for_tests(default_keys(), policy, &[API_AUDIENCE])
    });
    API.clone()
}

fn validate_access_token(raw: &str) -> Result<ApiCaller, BearerError> {
    block_on(api().validate(raw))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(super) fn signed(header: &Header, claims: &Value) -> String {
    let key = match header.alg {
        Algorithm::ES256 => ec(),
        _ => rsa_a(),
    };
    jsonwebtoken::encode(header, claims, &key).unwrap()
}

/// The `kid` under which `default_keys()` lists the key that [`signed`] uses for `alg`.
fn kid_of(alg: Algorithm) -> &'static str {
    if alg == Algorithm::ES256 { "ec" } else { "a" }
}

pub(super) fn header(alg: Algorithm, kid: &str, typ: Option<String>) -> Header {
    Header { kid: Some(kid.to_owned()), typ, ..Header::new(alg) }
}

/// A JOSE header: mostly the fields a verifier reads, with values right or wrong, and sometimes anything.
fn jose_header() -> impl Strategy<Value = Value> {
    let alg = prop_oneof![
        proptest::sample::select(vec!["RS256", "PS256", "ES256", "none", "None", "HS256", "RS384", "EdDSA", ""])
            .prop_map(Value::from),
        json_value(),
    ];
    let kid = prop_oneof![
        proptest::sample::select(vec!["a", "b", "ec", "zzz"]).prop_map(Value::from),
        Just(Value::Null),
        json_value(),
    ];
    let typ = prop_oneof![
        proptest::sample::select(vec!["JWT", "at+jwt", "id_token+jwt", ""]).prop_map(Value::from),
        json_value(),
    ];
    let fields = (alg, proptest::option::of(kid), proptest::option::of(typ), proptest::option::of(json_value()))
        .prop_map(|(alg, kid, typ, extra)| {
            let mut header = json!({ "alg": alg });
            if let Some(kid) = kid {
                header["kid"] = kid;
            }
            if let Some(typ) = typ {
                header["typ"] = typ;
            }
            if let Some(extra) = extra {
                header["crit"] = extra;
            }
            header
        });
    prop_oneof![4 => fields, 1 => json_value()]
}

/// A value a claim might carry: right, wrong, of another type, or out of range.
fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(vec![
            json!(ISSUER),
            json!("https://evil.example"),
            json!(CLIENT_ID),
            json!(API_AUDIENCE),
            json!([CLIENT_ID]),
            json!([API_AUDIENCE, "other"]),
            json!([CLIENT_ID, CLIENT_ID]),
            json!([CLIENT_ID, "other"]),
            json!([]),
            json!(NONCE),
            json!("alice"),
            json!(""),
            json!("x".repeat(256)),
            json!("ålice"),
            json!(null),
            json!(1e16),
            json!(-1e16),
            json!(f64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!("Mail.Read Mail.Send"),
            json!("bad\"scope"),
        ]),
        (-4000..4000i64).prop_map(|offset| json!(NOW + offset)),
        (-4000.0..4000.0f64).prop_map(|offset| json!(NOW as f64 + offset)),
        json_value(),
    ]
}

/// Up to four claims of `base` changed: a value replaces, `null` removes.
fn claim_changes(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(proptest::sample::select(names), claim_value(), 0..4)
        .prop_map(|changes| Value::Object(changes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

const ID_TOKEN_CLAIMS: &[&str] =
    &["iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "tid", "oid", "name", "email", "unknown"];
/// Every claim `IdTokenClaims` deserializes (provider/id_token.rs).
const CLAIMS_READ: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "azp",
    "tid",
    "oid",
    "name",
    "preferred_username",
    "upn",
    "email",
    "login_hint",
];
const ACCESS_TOKEN_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "scp",
    "scope",
    "azp",
    "client_id",
    "appid",
    "tid",
    "oid",
    "roles",
    "idtyp",
    "ver",
    "unknown",
];

/// Claims a token might carry: the valid set with some changed, or anything.
fn payload(names: &'static [&'static str], base: fn() -> Value) -> impl Strategy<Value = Value> {
    prop_oneof![3 => claim_changes(names).prop_map(move |changes| changed(base(), changes)), 1 => json_value()]
}

pub(super) fn access_claims() -> Value {
    let now = unix_now() as i64;
    json!({ "iss": ISSUER, "sub": "alice", "aud": API_AUDIENCE, "exp": now + 600, "iat": now, "scp": "Mail.Read" })
}

/// Seconds of a NumericDate as the rules read it, or `None` when it is not one.
fn date(value: &Value) -> Option<i64> {
    let value = value.as_f64()?;
    (value.is_finite() && value.abs() <= 1e15).then(|| value.floor() as i64)
}

fn present(claims: &Value, name: &str) -> bool {
    !claims.get(name).unwrap_or(&Value::Null).is_null()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string_is_refused_as_a_token_without_panicking(
        raw in prop_oneof![tricky_string(200), "[A-Za-z0-9_.-]{0,300}"],
    ) {
        prop_assert!(validate_id_token(&raw).is_err());
        prop_assert!(validate_access_token(&raw).is_err());
    }

    #[test]
    fn a_token_without_a_valid_signature_is_never_accepted(
        jose in jose_header(),
        body in prop_oneof![payload(ID_TOKEN_CLAIMS, claims), payload(ACCESS_TOKEN_CLAIMS, access_claims)],
        signature in prop_oneof![
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 0..300),
            // A genuine signature of the keys the verifier trusts, over other content.
            proptest::sample::select(vec![Algorithm::ES256, Algorithm::RS256, Algorithm::PS256]).prop_map(|alg| {
                let token = signed(&header(alg, kid_of(alg), None), &json!({"sub": "donor"}));
                URL_SAFE_NO_PAD.decode(token.rsplit('.').next().unwrap()).unwrap()
            }),
        ],
    ) {
        // The donor's own header and claims would make its signature valid again.
        prop_assume!(body != json!({"sub": "donor"}));
        let (jose, body) = (jose.to_string(), body.to_string());
        let raw = format!("{}.{}.{}", b64(jose.as_bytes()), b64(body.as_bytes()), b64(&signature));
        prop_assert!(validate_id_token(&raw).is_err(), "{}", raw);
        prop_assert!(validate_access_token(&raw).is_err(), "{}", raw);
    }

    #[test]
    fn a_signed_token_with_other_claims_or_header_spliced_in_is_refused(
        alg in proptest::sample::select(vec![Algorithm::ES256, Algorithm::RS256, Algorithm::PS256]),
        body in payload(ID_TOKEN_CLAIMS, claims),
        splice_header in any::<bool>(),
    ) {
        let kid = kid_of(alg);
        let genuine = signed(&header(alg, kid, None), &claims());
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged = if splice_header {
            // The same claims under a header naming another algorithm or key.
            let other = json!({"alg": if alg == Algorithm::RS256 { "PS256" } else { "RS256" }, "kid": "b"});
            format!("{}.{}.{}", b64(other.to_string().as_bytes()), parts[1], parts[2])
        } else {
            let payload = b64(body.to_string().as_bytes());
            prop_assume!(payload != parts[1]);
            format!("{}.{payload}.{}", parts[0], parts[2])
        };
        prop_assert!(validate_id_token(&forged).is_err());
    }

    #[test]
    fn a_signed_id_token_is_accepted_only_when_every_claim_rule_holds(changes in claim_changes(ID_TOKEN_CLAIMS)) {
        let claims = changed(claims(), changes);
        let raw = signed(&header(Algorithm::ES256, "ec", Some("JWT".into())), &claims);
        if let Ok(validated) = validate_id_token(&raw) {
            prop_assert_eq!(claims["iss"].as_str(), Some(ISSUER));
            let audiences: Vec<&Value> = match &claims["aud"] {
                Value::Array(many) => many.iter().collect(),
                one => vec![one],
            };
            let ours = |aud: &&Value| aud.as_str() == Some(CLIENT_ID);
            prop_assert!(!audiences.is_empty() && audiences.iter().all(ours), "{}", claims);
            match claims.get("azp").filter(|azp| !azp.is_null()) {
                Some(azp) => prop_assert_eq!(azp.as_str(), Some(CLIENT_ID)),
                None => prop_assert_eq!(audiences.len(), 1),
            }
            prop_assert!(date(&claims["exp"]).is_some_and(|exp| exp + SKEW > NOW), "{}", claims);
            prop_assert!(date(&claims["iat"]).is_some_and(|iat| iat <= NOW + SKEW), "{}", claims);
            prop_assert!(!present(&claims, "nbf") || date(&claims["nbf"]).is_some_and(|nbf| nbf <= NOW + SKEW));
            let sub = claims["sub"].as_str().unwrap_or_default();
            prop_assert!(!sub.is_empty() && sub.len() <= 255 && sub.is_ascii(), "{}", claims);
            prop_assert_eq!(validated.subject(), sub);
            prop_assert_eq!(claims["nonce"].as_str(), Some(NONCE));
        }
    }

    #[test]
    fn a_signed_id_token_with_valid_claims_is_accepted_whatever_else_it_carries(
        extra in proptest::collection::btree_map("[a-z_]{1,10}", json_value(), 0..4),
        alg in proptest::sample::select(vec![Algorithm::ES256, Algorithm::RS256, Algorithm::PS256]),
    ) {
        // The other side of the rules: unknown claims never turn a valid token away.
        // A claim the crate reads (`oid: []`, say) is not unknown: its wrong type refuses the token.
        let mut claims = claims();
        for (name, value) in extra {
            if claims.get(&name).is_none() && !CLAIMS_READ.contains(&name.as_str()) {
                claims[name] = value;
            }
        }
        let kid = kid_of(alg);
        prop_assert!(validate_id_token(&signed(&header(alg, kid, None), &claims)).is_ok(), "{}", claims);
    }

    #[test]
    fn a_signed_access_token_is_accepted_only_when_every_rule_holds(
        changes in claim_changes(ACCESS_TOKEN_CLAIMS),
        typ in proptest::option::of(proptest::sample::select(vec![
            "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "id_token+jwt", "logout+jwt", "",
        ])),
    ) {
        let claims = changed(access_claims(), changes);
        let raw = signed(&header(Algorithm::ES256, "ec", typ.map(str::to_owned)), &claims);
        // Read after signing: the clock may have ticked, never backwards.
        if let Ok(caller) = validate_access_token(&raw) {
            let now = unix_now() as i64;
            let access_token_typ =
                |typ: &str| ["jwt", "at+jwt", "application/at+jwt"].contains(&typ.to_ascii_lowercase().as_str());
            prop_assert!(typ.is_none_or(access_token_typ), "{:?}", typ);
            prop_assert_eq!(claims["iss"].as_str(), Some(ISSUER));
            let audiences: Vec<&Value> = match &claims["aud"] {
                Value::Array(many) => many.iter().collect(),
                one => vec![one],
            };
            prop_assert!(audiences.iter().any(|aud| aud.as_str() == Some(API_AUDIENCE)), "{}", claims);
            prop_assert!(date(&claims["exp"]).is_some_and(|exp| exp + SKEW > now - 1), "{}", claims);
            for name in ["nbf", "iat"] {
                let valid_yet = date(&claims[name]).is_some_and(|at| at <= now + SKEW);
                prop_assert!(!present(&claims, name) || valid_yet, "{}", claims);
            }
            let sub = claims["sub"].as_str().unwrap_or_default();
            prop_assert!(!sub.is_empty());
            prop_assert_eq!(caller.subject(), sub);
            let scopes = claims.get("scp").filter(|s| !s.is_null()).or(claims.get("scope").filter(|s| !s.is_null()));
            let expected = match scopes {
                Some(scopes) => ScopeSet::parse(scopes.as_str().unwrap()).unwrap(),
                None => ScopeSet::new(),
            };
            prop_assert_eq!(caller.scopes(), &expected);
            // An app-only caller has no delegated scopes and says it is an app: by `idtyp`, or by a subject
            // that is its own object id or client id. `idtyp` is never overruled.
            let idtyp = claims.get("idtyp").filter(|v| !v.is_null());
            if caller.kind() == crate::web_api::protected_api::CallerKind::App {
                prop_assert!(expected.is_empty(), "{}", claims);
                let client = ["azp", "client_id", "appid"].into_iter().find(|name| present(&claims, name));
                let is_sub = |name: Option<&str>| name.is_some_and(|name| claims[name].as_str() == Some(sub));
                prop_assert!(
                    idtyp.is_some_and(|v| v == "app") || (idtyp.is_none() && (is_sub(Some("oid")) || is_sub(client))),
                    "{}", claims
                );
            } else {
                prop_assert!(idtyp.is_none_or(|v| v == "user"), "{}", claims);
            }
        }
    }
}
