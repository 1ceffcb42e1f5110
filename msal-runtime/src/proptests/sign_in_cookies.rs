//! The sign-in cookies (`sign_in::transaction`): whatever a browser, or an attacker, sends under their names,
//! and whatever `state` a callback names, a sign-in opens only from the cookie sealed for that very state, and
//! starting a sign-in copes with any cookies a request carries.

use std::time::Duration;

use cookie::{Cookie, Key};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use proptest::prelude::*;

use super::{config, tricky_string};
use crate::config::settings::ResponseMode;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::sign_in::pkce::PkceVerifier;
use crate::sign_in::return_url::ReturnUrl;
use crate::sign_in::transaction::{PendingSignIn, Transactions};
use crate::web::cookies::Cookies;

const NOW: u64 = 1_800_000_000;

fn transactions() -> Transactions {
    Transactions::new(Cookies::new(Key::generate(), true, false), Duration::from_secs(600), 10)
}

fn pending(return_url: &str) -> PendingSignIn {
    PendingSignIn {
        nonce: Secret::new("nonce"),
        verifier: PkceVerifier::generate(),
        return_url: ReturnUrl::parse(return_url).unwrap_or_else(|_| ReturnUrl::root()),
        response_mode: ResponseMode::Query,
        scopes: ScopeSet::reserved(),
        interaction: None,
        started_at: NOW,
    }
}

/// A request whose `Cookie` header holds `pairs`, or nothing if the header would not be a valid one.
fn request(pairs: &[(String, String)]) -> HeaderMap {
    let line: Vec<String> = pairs.iter().map(|(name, value)| Cookie::new(name, value).encoded().to_string()).collect();
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&line.join("; ")) {
        headers.insert(COOKIE, value);
    }
    headers
}

/// Cookies named like sign-in cookies (with and without the `__Host-` prefix), with any value.
fn sign_in_like_cookies() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = (any::<bool>(), "[A-Za-z0-9_-]{0,20}")
        .prop_map(|(host, id)| format!("{}msal_signin_{id}", if host { "__Host-" } else { "" }));
    proptest::collection::vec((name, tricky_string(80)), 0..12)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn made_up_sign_in_cookies_never_open_a_sign_in(cookies in sign_in_like_cookies(), state in tricky_string(60)) {
        prop_assert!(transactions().open(&request(&cookies), &state, NOW).is_none());
    }

    #[test]
    fn a_sign_in_opens_for_its_own_state_only(
        path in "/[a-z0-9/?=&._-]{0,60}",
        state in "[A-Za-z0-9_-]{1,64}",
        other in "[A-Za-z0-9_-]{1,64}",
    ) {
        let transactions = transactions();
        let set = transactions.begin(&HeaderMap::new(), &state, &pending(&path)).unwrap();
        let pair = Cookie::parse_encoded(set.last().unwrap().to_str().unwrap().to_owned()).unwrap();
        let headers = request(&[(pair.name().to_owned(), pair.value().to_owned())]);
        let opened = transactions.open(&headers, &state, NOW).expect("its own state opens");
        prop_assert_eq!(opened.return_url.as_str(), ReturnUrl::parse(&path).map(|url| url.as_str().to_owned()).unwrap_or("/".to_owned()));
        if other != state {
            prop_assert!(transactions.open(&headers, &other, NOW).is_none());
        }
    }

    #[test]
    fn starting_a_sign_in_copes_with_any_cookies_and_deletes_at_most_what_it_examined(
        cookies in sign_in_like_cookies(),
        state in "[A-Za-z0-9_-]{1,64}",
    ) {
        let set = transactions().begin(&request(&cookies), &state, &pending("/")).unwrap();
        prop_assert!(!set.is_empty() && set.len() <= cookies.len() + 1);
        prop_assert!(set.iter().all(|header| header.to_str().unwrap().contains("HttpOnly")));
    }
}
