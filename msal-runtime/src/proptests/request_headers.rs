//! Request headers the runtime interprets: `Authorization: Bearer` (the `Bearer` extractor) and the headers
//! that tell a navigation from a script (`RequestKind`).

use axum::extract::FromRequestParts;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use jsonwebtoken::Algorithm;
use proptest::prelude::*;

use super::tokens::{access_claims, api, header, signed};
use super::{block_on, config, tricky_string};
use crate::extract::request_kind::RequestKind;
use crate::scope::required::RequiredScopes;
use crate::web_api::bearer::{Bearer, BearerRejection};

struct MailRead;

impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

fn extract(authorization: &[HeaderValue]) -> Result<Bearer<MailRead>, BearerRejection> {
    let mut request = Request::builder().uri("/api/mail");
    for value in authorization {
        request = request.header(AUTHORIZATION, value.clone());
    }
    let (mut parts, ()) = request.body(()).unwrap().into_parts();
    block_on(Bearer::<MailRead>::from_request_parts(&mut parts, &api()))
}

fn valid_token() -> String {
    signed(&header(Algorithm::ES256, "ec", Some("at+jwt".into())), &access_claims())
}

/// `Bearer` in any case mix.
fn scheme() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), 6).prop_map(|upper| {
        "bearer".chars().zip(upper).map(|(c, up)| if up { c.to_ascii_uppercase() } else { c }).collect()
    })
}

fn header_values() -> impl Strategy<Value = Vec<HeaderValue>> {
    let value = prop_oneof![
        tricky_string(60).prop_map(String::into_bytes),
        ("[Bb]earer ", tricky_string(60)).prop_map(|(scheme, rest)| format!("{scheme}{rest}").into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..80),
    ];
    // Only what a client can send: HTTP forbids control characters other than tab in a header value.
    proptest::collection::vec(value, 0..3)
        .prop_map(|values| values.into_iter().filter_map(|v| HeaderValue::from_bytes(&v).ok()).collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_authorization_header_is_refused_without_panicking(values in header_values()) {
        let rejection = extract(&values).unwrap_err();
        if values.is_empty() {
            prop_assert_eq!(rejection, BearerRejection::Missing);
        }
    }

    #[test]
    fn a_valid_token_is_accepted_with_any_case_of_bearer_and_spacing(
        scheme in scheme(),
        before in " {1,3}",
        after in " {0,3}",
    ) {
        let value = HeaderValue::from_str(&format!("{scheme}{before}{}{after}", valid_token())).unwrap();
        let caller = extract(&[value]).unwrap();
        prop_assert_eq!(caller.subject(), "alice");
    }

    #[test]
    fn two_authorization_headers_are_refused_even_if_both_are_valid(
        other in prop_oneof![Just(None), tricky_string(20).prop_map(Some)],
    ) {
        // Which one a proxy would have checked is unknowable.
        let token = HeaderValue::from_str(&format!("Bearer {}", valid_token())).unwrap();
        let second = match other.and_then(|other| HeaderValue::from_str(&other).ok()) {
            Some(other) => other,
            None => token.clone(),
        };
        prop_assert_eq!(extract(&[token, second]).unwrap_err(), BearerRejection::MalformedHeader);
    }

    #[test]
    fn a_valid_token_under_another_scheme_is_refused(
        scheme in proptest::sample::select(vec!["Basic", "DPoP", "Bearer:", "Bearer\t", "", "Bearer,"]),
    ) {
        let value = HeaderValue::from_str(&format!("{scheme} {}", valid_token())).unwrap();
        prop_assert_eq!(extract(&[value]).unwrap_err(), BearerRejection::MalformedHeader);
    }

    #[test]
    fn any_headers_tell_the_request_kind_without_panicking_and_navigate_is_believed(
        headers in proptest::collection::vec(
            (
                proptest::sample::select(vec!["sec-fetch-mode", "x-requested-with", "accept", "content-type"]),
                proptest::collection::vec(any::<u8>(), 0..40),
            ),
            0..4,
        ),
        method in proptest::sample::select(vec![Method::GET, Method::HEAD, Method::POST, Method::PUT]),
    ) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        let kind = RequestKind::of(&method, &map);
        let first = |name: &str| map.get(name).and_then(|value| value.to_str().ok());
        if map.contains_key("x-requested-with") {
            prop_assert_eq!(kind, RequestKind::Fetch);
        } else if first("sec-fetch-mode").is_some_and(|mode| mode.eq_ignore_ascii_case("navigate")) {
            // A browser's own navigation header wins over whatever `Accept` a page script could not set.
            prop_assert_ne!(kind, RequestKind::Fetch);
        }
    }
}
