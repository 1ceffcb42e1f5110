//! `WWW-Authenticate` answers of downstream APIs (RFC 9110 §11.6.1, RFC 6750 §3): any header is read without
//! panicking, and a Bearer challenge wherever it sits among others, however spaced and quoted, reads back as
//! what it asked for.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, StatusCode, header::WWW_AUTHENTICATE};
use proptest::prelude::*;

use super::{config, tricky_string};
use crate::downstream::challenge::{Challenge, challenge_of};
use crate::scope::set::ScopeSet;

/// A token (RFC 9110 §5.6.2).
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}"
}

/// A parameter value: a token, or a quoted string with escaped quotes and backslashes.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![token(), "[ -~]{0,20}".prop_map(|text| format!("\"{}\"", quote(&text)))]
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Optional whitespace, as senders space lists.
fn ows() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", " ", "  ", "\t", " \t "])
}

/// A challenge of another scheme: a name and a few parameters (names other than the Bearer ones read here).
fn other_challenge() -> impl Strategy<Value = String> {
    (token(), proptest::collection::vec(("x[a-z]{1,6}", value(), ows()), 0..3)).prop_map(|(scheme, params)| {
        let params: Vec<String> =
            params.into_iter().map(|(name, value, space)| format!("{name}{space}={space}{value}")).collect();
        if params.is_empty() { scheme } else { format!("{scheme} {}", params.join(", ")) }
    })
}

/// Scopes as an API names them.
fn scopes() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("(api://[a-z]{1,6}/)?[A-Z][a-z]{1,5}\\.(Read|Send)", 1..4)
}

/// A claims request: a JSON object of a few members.
fn claims() -> impl Strategy<Value = serde_json::Value> {
    proptest::collection::btree_map(
        "[a-z_]{1,8}",
        prop_oneof![any::<bool>().prop_map(serde_json::Value::from), "[ -~]{0,12}".prop_map(serde_json::Value::from)],
        0..4,
    )
    .prop_map(|members| serde_json::Value::Object(members.into_iter().collect()))
}

fn headers(values: &[String]) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(WWW_AUTHENTICATE, HeaderValue::from_str(value).ok()?);
    }
    Some(headers)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_header_is_read_without_panicking(values in proptest::collection::vec(tricky_string(120), 0..3)) {
        if let Some(headers) = headers(&values) {
            let _ = challenge_of(StatusCode::UNAUTHORIZED, &headers);
            let _ = challenge_of(StatusCode::FORBIDDEN, &headers);
        }
    }

    #[test]
    fn a_bearer_challenge_among_others_reads_back_as_what_it_asks_for(
        before in proptest::collection::vec(other_challenge(), 0..3),
        after in proptest::collection::vec(other_challenge(), 0..3),
        split in any::<bool>(),
        insufficient_scope in any::<bool>(),
        scopes in scopes(),
        claims in claims(),
        realm in proptest::option::of("[ -~]{0,12}"),
        (a, b) in (ows(), ows()),
    ) {
        let mut params = Vec::new();
        if let Some(realm) = &realm {
            params.push(format!("realm=\"{}\"", quote(realm)));
        }
        if insufficient_scope {
            params.push(format!("error{a}={b}\"insufficient_scope\""));
            params.push(format!("scope=\"{}\"", scopes.join(" ")));
        } else {
            params.push(format!("error={a}insufficient_claims"));
            params.push(format!("claims{b}=\"{}\"", STANDARD.encode(claims.to_string())));
        }
        let bearer = format!("Bearer {}", params.join(&format!("{a},{b}")));
        let all: Vec<String> = before.iter().cloned().chain([bearer]).chain(after.iter().cloned()).collect();
        // One header value, or one per challenge.
        let values = if split { all } else { vec![all.join(&format!("{a},{b}"))] };
        let headers = headers(&values).expect("visible ASCII");
        let status = if insufficient_scope { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
        match challenge_of(status, &headers) {
            Ok(Some(Challenge::Scope(needed))) => {
                prop_assert!(insufficient_scope);
                prop_assert_eq!(needed.scopes(), Some(&ScopeSet::from_strs(scopes.iter().map(String::as_str)).unwrap()));
            }
            Ok(Some(Challenge::Claims(read))) => {
                prop_assert!(!insufficient_scope);
                prop_assert_eq!(serde_json::from_str::<serde_json::Value>(read.claims()).unwrap(), claims);
            }
            other => prop_assert!(false, "{:?} from {:?}", other, values),
        }
    }
}
