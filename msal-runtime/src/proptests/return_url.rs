//! `ReturnUrl::parse`: where the browser is sent after sign-in, taken from the request (docs/SECURITY.md §9).

use proptest::prelude::*;
use url::Url;

use super::{config, tricky_string};
use crate::sign_in::return_url::ReturnUrl;

/// Strings close to the edge of the rule: mostly paths, some with a host, a scheme, backslashes or controls.
fn candidate() -> impl Strategy<Value = String> {
    let start = prop_oneof![
        Just(""),
        Just("/"),
        Just("//"),
        Just("/\\"),
        Just("\\"),
        Just("/\t/"),
        Just("https:"),
        Just("javascript:"),
        Just("/%2F"),
        Just(" /")
    ];
    (start, tricky_string(40)).prop_map(|(start, rest)| format!("{start}{rest}"))
}

/// The site a return URL is resolved against, as a browser does with a `Location` header.
fn site() -> Url {
    Url::parse("https://app.example/some/page?x=1").unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string_parses_or_is_refused_without_panicking(value in any::<String>()) {
        let _ = ReturnUrl::parse(&value);
    }

    #[test]
    fn an_accepted_return_url_is_a_single_slash_path_of_visible_ascii(value in candidate()) {
        if let Ok(parsed) = ReturnUrl::parse(&value) {
            let bytes = value.as_bytes();
            prop_assert_eq!(parsed.as_str(), value.as_str(), "kept as given");
            prop_assert_eq!(bytes[0], b'/');
            prop_assert!(!matches!(bytes.get(1), Some(b'/' | b'\\')), "{:?}", value);
            prop_assert!(bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'\\'), "{:?}", value);
            prop_assert!(value.len() <= 2048);
            // No scheme: on its own it is not a URL at all, only a path relative to the site.
            prop_assert_eq!(Url::parse(&value).unwrap_err(), url::ParseError::RelativeUrlWithoutBase);
        }
    }

    #[test]
    fn an_accepted_return_url_never_leaves_the_site(value in candidate()) {
        if ReturnUrl::parse(&value).is_ok() {
            let target = site().join(&value).unwrap();
            prop_assert_eq!(target.origin(), site().origin(), "{:?} resolves to {}", value, target);
            prop_assert!(target.username().is_empty() && target.password().is_none(), "{}", target);
        }
    }

    #[test]
    fn every_path_of_visible_ascii_is_accepted(rest in "[!-\\[\\]-~]{0,200}") {
        // The rule's other side: a plain same-site path is never refused, or sign-in would drop users at `/`.
        prop_assume!(!rest.starts_with('/'));
        let value = format!("/{rest}");
        let parsed = ReturnUrl::parse(&value).unwrap();
        prop_assert_eq!(parsed.as_str(), value.as_str());
    }

    #[test]
    fn anything_longer_than_2048_bytes_is_refused(rest in "[a-z/]{1,64}") {
        let value = format!("/{}{rest}", "a".repeat(2047));
        prop_assert!(ReturnUrl::parse(&value).is_err());
    }
}
