//! What the provider sends back: token endpoint responses (and what is recorded from them), Entra's
//! `client_info`, the discovery document, the JWKS, and the issuers they name.

use std::num::NonZeroUsize;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use http::StatusCode;
use jsonwebtoken::Algorithm;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::cache_json::json_value;
use super::{block_on, config, tricky_string};
use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, InteractionReason, classify};
use crate::cache::partition::GrantType;
use crate::cache::partition::tests::issue;
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::provider::account::{HomeAccountId, identify};
use crate::provider::authority::{Authority, IssuerPolicy, is_guid};
use crate::provider::discovery::{ProviderMetadata, check_metadata};
use crate::provider::http::ProviderResponse;
use crate::provider::id_token::IdTokenClaims;
use crate::provider::id_token::tests::{keys, rsa_a_jwk};
use crate::provider::token_endpoint::{TokenError, interpret};

/// A number of seconds as a provider might write it: small, huge, negative, fractional, or a string.
fn seconds() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..100_000u64).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        any::<u64>().prop_map(|n| Value::from(n.to_string())),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(" 3600 ")),
        json_value(),
    ]
}

/// A response body, shown as text when a case fails.
#[derive(Clone)]
struct Body(Vec<u8>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A token endpoint body: a success, an OAuth error, or anything.
fn token_body() -> impl Strategy<Value = Body> {
    let success = (
        prop_oneof!["[!-~]{1,40}", tricky_string(20)],
        proptest::option::of(prop_oneof![
            Just("Bearer".to_owned()),
            Just("bearer".to_owned()),
            Just("DPoP".to_owned())
        ]),
        proptest::collection::btree_map(
            proptest::sample::select(vec!["expires_in", "ext_expires_in", "refresh_in", "refresh_token_expires_in"]),
            seconds(),
            0..4,
        ),
        proptest::option::of(prop_oneof![
            Just(Value::from("Mail.Read openid")),
            tricky_string(20).prop_map(Value::from),
            json_value()
        ]),
        proptest::option::of(prop_oneof![tricky_string(20).prop_map(Value::from), json_value()]),
    )
        .prop_map(|(access_token, token_type, times, scope, refresh_token)| {
            let mut body = json!({ "access_token": access_token, "id_token": "id", "foci": "1" });
            if let Some(token_type) = token_type {
                body["token_type"] = token_type.into();
            }
            for (name, value) in times {
                body[name] = value;
            }
            if let Some(scope) = scope {
                body["scope"] = scope;
            }
            if let Some(refresh_token) = refresh_token {
                body["refresh_token"] = refresh_token;
            }
            body.to_string().into_bytes()
        });
    let error = (
        proptest::sample::select(vec!["invalid_grant", "interaction_required", "invalid_client", "invalid_scope", ""]),
        proptest::option::of(proptest::sample::select(vec!["consent_required", "client_mismatch", "bad_token"])),
        proptest::option::of(json_value()),
        proptest::option::of(tricky_string(20)),
    )
        .prop_map(|(error, suberror, error_codes, claims)| {
            let mut body = json!({ "error": error, "suberror": suberror, "claims": claims });
            if let Some(error_codes) = error_codes {
                body["error_codes"] = error_codes;
            }
            body.to_string().into_bytes()
        });
    prop_oneof![
        3 => success,
        2 => error,
        1 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
    .prop_map(Body)
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        3 => Just(StatusCode::OK),
        1 => proptest::sample::select(vec![201u16, 204, 302, 400, 401, 429, 500, 503])
            .prop_map(|s| StatusCode::from_u16(s).unwrap()),
        1 => (100..1000u16).prop_map(|s| StatusCode::from_u16(s).unwrap()),
    ]
}

fn response(status: StatusCode, body: Body, retry_after: Option<u64>) -> ProviderResponse {
    ProviderResponse { status, retry_after: retry_after.map(Duration::from_secs), body: body.0.into() }
}

const OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";
const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// `client_info` as Entra sends it (padded base64url JSON of `uid` and `utid`), as it might be broken, or anything.
fn client_info() -> impl Strategy<Value = String> {
    let id = prop_oneof![
        Just(Value::from(OID)),
        Just(Value::from(OID.to_uppercase())),
        Just(Value::from(TID)),
        Just(Value::from("11111111-1111-1111-1111-111111111111")),
        tricky_string(12).prop_map(Value::from),
        json_value(),
    ];
    let info = (proptest::option::of(id.clone()), proptest::option::of(id)).prop_map(|(uid, utid)| {
        let mut info = json!({});
        if let Some(uid) = uid {
            info["uid"] = uid;
        }
        if let Some(utid) = utid {
            info["utid"] = utid;
        }
        info.to_string()
    });
    prop_oneof![
        2 => info.clone().prop_map(|json| URL_SAFE.encode(json)),
        1 => info.prop_map(|json| URL_SAFE_NO_PAD.encode(json)),
        1 => json_value().prop_map(|value| URL_SAFE.encode(value.to_string())),
        1 => tricky_string(40),
    ]
}

fn entra_claims() -> impl Strategy<Value = IdTokenClaims> {
    let id = || proptest::option::of(proptest::sample::select(vec![OID, TID, "11111111-1111-1111-1111-111111111111"]));
    (id(), id(), "[a-zA-Z0-9]{1,20}").prop_map(|(oid, tid, sub)| IdTokenClaims {
        iss: Some(format!("https://login.microsoftonline.com/{TID}/v2.0")),
        sub: Some(sub),
        oid: oid.map(str::to_owned),
        tid: tid.map(str::to_owned),
        ..Default::default()
    })
}

/// A discovery document: Entra's with fields replaced by values right, wrong or of the wrong type.
fn discovery_document() -> impl Strategy<Value = Value> {
    let url = prop_oneof![
        Just(Value::from("https://idp.example/x")),
        Just(Value::from("http://idp.example/x")),
        Just(Value::from("http://127.0.0.1:8080/x")),
        Just(Value::from("http://localhost/x")),
        Just(Value::from("http://[::1]/x")),
        Just(Value::from("ftp://idp.example/x")),
        Just(Value::from("javascript:alert(1)")),
        tricky_string(20).prop_map(Value::from),
        json_value(),
    ];
    let list = prop_oneof![
        Just(json!(["S256"])),
        Just(json!(["plain"])),
        Just(json!(["query", "form_post"])),
        Just(json!([])),
        json_value()
    ];
    let field = proptest::sample::select(vec![
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "response_modes_supported",
        "code_challenge_methods_supported",
        "authorization_response_iss_parameter_supported",
    ]);
    let value = prop_oneof![3 => url, 1 => list, 1 => Just(Value::Null)];
    proptest::collection::btree_map(field, value, 0..6).prop_map(|changes| {
        let mut document = json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/authorize",
            "token_endpoint": "https://idp.example/token",
            "jwks_uri": "https://idp.example/jwks",
        });
        for (name, value) in changes {
            document[name] = value;
        }
        document
    })
}

/// A JWKS entry: of a known or unknown type, for signing or encryption, with an `alg` that fits or not.
fn jwk() -> impl Strategy<Value = Value> {
    let text =
        || prop_oneof![proptest::sample::select(vec!["AQAB", "AA", "", "%%%"]).prop_map(Value::from), json_value()];
    let kty = proptest::sample::select(vec!["RSA", "EC", "OKP", "oct", "FUTURE"]);
    let crv = proptest::option::of(proptest::sample::select(vec!["P-256", "P-384", "P-521", "Ed25519", "X25519"]));
    let use_ = proptest::option::of(proptest::sample::select(vec!["sig", "enc", "other"]));
    let alg =
        proptest::option::of(proptest::sample::select(vec!["RS256", "ES256", "HS256", "EdDSA", "none", "A128KW"]));
    prop_oneof![
        3 => (kty, crv, use_, alg, text(), text(), text(), text()).prop_map(|(kty, crv, use_, alg, n, e, x, k)| {
            json!({
                "kty": kty, "crv": crv, "use": use_, "alg": alg, "kid": "k", "n": n, "e": e, "x": x, "y": x, "k": k
            })
        }),
        1 => json_value(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_token_endpoint_response_is_interpreted_without_panicking(
        status in status(),
        body in token_body(),
        retry_after in proptest::option::of(any::<u64>()),
    ) {
        match interpret(response(status, body.clone(), retry_after)) {
            Ok(tokens) => {
                prop_assert!(status.is_success());
                let token = tokens.access_token.expose();
                prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()), "{:?}", token);
                prop_assert!(tokens.token_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("bearer")));
            }
            Err(TokenError::Unavailable { retry_after: kept, .. }) => {
                prop_assert_eq!(kept, retry_after.map(Duration::from_secs));
            }
            Err(error) => {
                // Throttling and outages are never mistaken for an answer about the user or the app.
                prop_assert!(status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error(), "{:?}", error);
                let _ = classify(error);
            }
        }
    }

    #[test]
    fn a_claims_challenge_always_reaches_the_interaction(
        body in token_body(),
        status in proptest::sample::select(vec![400u16, 401]),
    ) {
        let status = StatusCode::from_u16(status).unwrap();
        let sent: Option<Value> = serde_json::from_slice::<Value>(&body.0).ok().and_then(|v| v.get("claims").cloned());
        if let Err(error) = interpret(response(status, body, None))
            && let AcquireError::InteractionRequired(required) = classify(error)
        {
            prop_assert_eq!(required.claims.as_deref(), sent.as_ref().and_then(Value::as_str));
            if required.claims.is_some() {
                prop_assert_eq!(required.reason, InteractionReason::ClaimsChallenge);
            }
        }
    }

    #[test]
    fn any_accepted_token_response_is_recorded_and_served_without_panicking(body in token_body()) {
        // A provider's lifetimes go into cache times (`now + expires_in`) and into `AccessToken::expires_on`.
        if let Ok(tokens) = interpret(response(StatusCode::OK, body, None)) {
            let cache = TokenCache::in_memory(NonZeroUsize::new(4).unwrap(), Duration::from_secs(3600), "client");
            let user = HomeAccountId::new("alice.tenant");
            let now = unix_now();
            block_on(cache.update(&user, |partition| {
                issue(partition, &tokens, "Mail.Read", GrantType::RefreshToken, now);
            }))
            .unwrap();
            let stored = block_on(cache.load(&user)).unwrap();
            if let Some(stored) = stored {
                for entry in stored.partition.access_tokens.values() {
                    prop_assert!(entry.expires_on >= now, "an issued token never expires before it was issued");
                    let _ = AccessToken::new(entry.secret.clone(), entry.expires_on).expires_on();
                }
            }
        }
    }

    #[test]
    fn an_entra_account_is_keyed_by_the_signed_oid_and_tid_whatever_client_info_says(
        claims in entra_claims(),
        info in proptest::option::of(client_info()),
    ) {
        let authority = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        if let Ok(account) = identify(&authority, &claims, info.as_deref()) {
            let home = account.home_account_id.as_str();
            prop_assert!(home.is_ascii() && home.contains('.'), "{:?}", home);
            if let (Some(oid), Some(tid)) = (&claims.oid, &claims.tid) {
                prop_assert_eq!(home, format!("{oid}.{tid}").to_ascii_lowercase());
            }
            prop_assert_eq!(account.client_info, info);
        } else {
            prop_assert!(info.is_some() || claims.oid.is_none() || claims.tid.is_none());
        }
    }

    #[test]
    fn another_providers_account_is_keyed_by_subject_and_issuer_only(
        sub in tricky_string(20),
        info in proptest::option::of(client_info()),
    ) {
        let authority = Authority::parse("https://idp.example").unwrap();
        let issuer = Some("https://idp.example".to_owned());
        let claims = IdTokenClaims { iss: issuer, sub: Some(sub.clone()), ..Default::default() };
        let account = identify(&authority, &claims, info.as_deref()).unwrap();
        let without_info = identify(&authority, &claims, None).unwrap();
        prop_assert_eq!(&account.home_account_id, &without_info.home_account_id);
        let (subject, realm) = account.home_account_id.as_str().rsplit_once('.').unwrap();
        prop_assert_eq!(subject, sub.as_str());
        prop_assert!(realm.len() == 16 && realm.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn an_accepted_discovery_document_names_only_secure_endpoints(
        document in discovery_document(),
        form_post in any::<bool>(),
    ) {
        let Ok(metadata) = serde_json::from_value::<ProviderMetadata>(document) else { return Ok(()) };
        if check_metadata(&metadata, form_post).is_ok() {
            let mut endpoints = vec![&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri];
            endpoints.extend(metadata.end_session_endpoint.as_ref());
            for url in endpoints {
                let loopback = match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(domain)) => domain == "localhost",
                    None => false,
                };
                prop_assert!(url.scheme() == "https" || (url.scheme() == "http" && loopback), "{}", url);
            }
            if let Some(methods) = &metadata.code_challenge_methods_supported {
                prop_assert!(methods.iter().any(|m| m == "S256"));
            }
        }
        let authority = Authority::parse("https://idp.example").unwrap();
        let _ = authority.issuer_policy(&metadata.issuer);
    }

    #[test]
    fn no_jwks_entry_ever_yields_an_hmac_key_and_a_good_key_survives_any_neighbours(
        entries in proptest::collection::vec(jwk(), 0..6),
        at in any::<proptest::sample::Index>(),
    ) {
        let mut entries = entries;
        entries.insert(at.index(entries.len() + 1), rsa_a_jwk(Some("good")));
        let keys = keys(entries);
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            prop_assert!(block_on(keys.candidates(None, alg)).is_empty());
        }
        prop_assert_eq!(block_on(keys.candidates(Some("good"), Algorithm::RS256)).len(), 1);
    }

    #[test]
    fn an_entra_template_issuer_is_only_ever_filled_with_a_tenant_guid(
        iss in prop_oneof![
            tricky_string(60),
            "https://login\\.microsoftonline\\.com/[0-9a-fA-F-]{30,40}/v2\\.0",
            Just(format!("https://login.microsoftonline.com/{TID}/v2.0")),
        ],
        tid in proptest::option::of(prop_oneof![Just(TID.to_owned()), "[0-9a-f-]{36}", tricky_string(40)]),
        allow_consumers in any::<bool>(),
    ) {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned();
        let policy = IssuerPolicy::EntraTemplate { template: template.clone(), allow_consumers };
        if policy.check_token_issuer(&iss, tid.as_deref()).is_ok() {
            let tid = tid.unwrap();
            prop_assert!(is_guid(&tid), "{:?}", tid);
            prop_assert!(allow_consumers || tid != TID, "organizations refuse personal accounts");
            prop_assert_eq!(iss.clone(), template.replace("{tenantid}", &tid));
        }
        if policy.check_response_issuer(&iss).is_ok() {
            let tenant = iss.strip_prefix("https://login.microsoftonline.com/").and_then(|r| r.strip_suffix("/v2.0"));
            prop_assert!(tenant.is_some_and(is_guid), "{:?}", iss);
        }
    }

    #[test]
    fn any_authority_parses_or_is_refused_without_panicking(
        value in prop_oneof![
            tricky_string(60),
            ("(https?|ftp)://", tricky_string(30)).prop_map(|(scheme, rest)| format!("{scheme}{rest}")),
            tricky_string(20).prop_map(|rest| format!("https://login.microsoftonline.com/{rest}")),
        ],
    ) {
        if let Ok(authority) = Authority::parse(&value) {
            let discovery = authority.discovery_url();
            prop_assert!(discovery.path().ends_with("/.well-known/openid-configuration"), "{}", discovery);
            let _ = (authority.to_string(), authority.environment());
        }
    }
}
