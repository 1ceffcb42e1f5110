//! `Cookies::read`: the sealed session and sign-in cookies, from whatever `Cookie` headers a browser (or an
//! attacker, or a sibling subdomain) sends; and that it reads exactly what the `cookie` crate's parser and
//! private jar, which it replaced, read.

use std::num::NonZeroUsize;
use std::time::Duration;

use cookie::{Cookie, CookieJar, Key};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use proptest::prelude::*;

use super::{config, tricky_string};
use crate::cache::partition::tests::identity;
use crate::session::sessions::Sessions;
use crate::session::store::SessionStore;
use crate::web::cookies::{CookieKind, Cookies};

fn kind() -> impl Strategy<Value = CookieKind<'static>> {
    prop_oneof![Just(CookieKind::Session), Just(CookieKind::SignIn("tab")), Just(CookieKind::SignIn("other-tab"))]
}

/// The `name=value` pair of a `Set-Cookie` value, with the value decoded as a browser stores it.
fn sealed_pair(set_cookie: &HeaderValue) -> (String, String) {
    let cookie = Cookie::parse_encoded(set_cookie.to_str().unwrap().to_owned()).unwrap();
    (cookie.name().to_owned(), cookie.value().to_owned())
}

/// A request carrying `cookies` in one `Cookie` header, in that order.
fn request(cookies: &[(String, String)]) -> HeaderMap {
    let line = cookies
        .iter()
        .map(|(name, value)| Cookie::new(name, value).encoded().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(&line).unwrap());
    headers
}

/// Cookies that are not ours, some of them under our names.
fn other_cookies() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("__Host-msal_session".to_owned()),
        Just("msal_session".to_owned()),
        Just("__Host-msal_signin".to_owned()),
        Just("msal_signin".to_owned()),
        "[a-zA-Z_-]{1,12}",
    ];
    // A value that looks like a sealed one (base64 of nonce, ciphertext and tag) or anything printable.
    let value = prop_oneof!["[A-Za-z0-9+/]{0,80}={0,2}", "[!#-+--:<-\\[\\]-~]{0,40}"];
    proptest::collection::vec((name, value), 0..4)
}

/// One change to a sealed value: a character replaced, some cut off, or some added.
#[derive(Debug, Clone)]
enum Tamper {
    Replace { at: proptest::sample::Index, with: char },
    Truncate { keep: proptest::sample::Index },
    Append(String),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    let base64_char = proptest::sample::select(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".chars().collect::<Vec<_>>(),
    );
    prop_oneof![
        (any::<proptest::sample::Index>(), base64_char).prop_map(|(at, with)| Tamper::Replace { at, with }),
        any::<proptest::sample::Index>().prop_map(|keep| Tamper::Truncate { keep }),
        "[A-Za-z0-9+/=]{1,8}".prop_map(Tamper::Append),
    ]
}

impl Tamper {
    /// The tampered value, or `None` when the change would leave it as it was.
    fn apply(&self, sealed: &str) -> Option<String> {
        let mut chars: Vec<char> = sealed.chars().collect();
        match self {
            Tamper::Replace { at, with } => {
                let at = at.index(chars.len());
                if chars[at] == *with {
                    return None;
                }
                chars[at] = *with;
            }
            Tamper::Truncate { keep } => chars.truncate(keep.index(chars.len())),
            Tamper::Append(extra) => chars.extend(extra.chars()),
        }
        Some(chars.into_iter().collect())
    }
}

/// How the runtime read its cookies before it opened them itself: the `cookie` crate's parser and private
/// jar, the reference the new reader must agree with.
fn read_by_the_cookie_crate(key: &Key, headers: &HeaderMap, name: &str) -> Option<String> {
    let jar = CookieJar::new();
    let private = jar.private(key);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .map(Cookie::into_owned)
        .filter(|cookie| cookie.name() == name)
        .find_map(|cookie| private.decrypt(cookie))
        .map(|cookie| cookie.value().to_owned())
}

/// `text` with the characters `mask` picks percent-encoded (upper- or lowercase hex), whatever they are.
fn percent_encode_some(text: &str, mask: &[bool], lowercase: bool) -> String {
    let mut encoded = String::new();
    for (at, byte) in text.bytes().enumerate() {
        if mask.get(at).copied().unwrap_or(false) {
            encoded.push_str(&if lowercase { format!("%{byte:02x}") } else { format!("%{byte:02X}") });
        } else {
            encoded.push(char::from(byte));
        }
    }
    encoded
}

/// How a client may send a sealed cookie: with blanks around its name and value and some of each
/// percent-encoded (the `=` and `;` too), maybe tampered with, among printable garbage that can hold blanks,
/// `;`, `=`, `%` and our names.
#[derive(Debug, Clone)]
struct Spelling {
    mask: Vec<bool>,
    lowercase: bool,
    tamper: Option<Tamper>,
    before: String,
    after: String,
    blanks: [String; 4],
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (
        proptest::collection::vec(proptest::bool::weighted(0.1), 0..200),
        any::<bool>(),
        proptest::option::of(tamper()),
        "[ -~]{0,24}",
        "[ -~]{0,24}",
        proptest::array::uniform4("[ \t]{0,2}"),
    )
        .prop_map(|(mask, lowercase, tamper, before, after, blanks)| Spelling {
            mask,
            lowercase,
            tamper,
            before,
            after,
            blanks,
        })
}

impl Spelling {
    /// A request with the cookie `name` sealed as `sealed` spelled this way; `None` when that is no header
    /// value at all.
    fn request(&self, name: &str, sealed: &str) -> Option<HeaderMap> {
        let sealed = self.tamper.as_ref().and_then(|tamper| tamper.apply(sealed)).unwrap_or_else(|| sealed.to_owned());
        let pair = Cookie::new(name.to_owned(), sealed).encoded().to_string();
        let (sent_name, sent_value) = pair.split_once('=').unwrap();
        let (sent_name, sent_value) = (
            percent_encode_some(sent_name, &self.mask, self.lowercase),
            percent_encode_some(sent_value, self.mask.get(sent_name.len()..).unwrap_or_default(), self.lowercase),
        );
        let [b1, b2, b3, b4] = &self.blanks;
        let line = format!("{};{b1}{sent_name}{b2}={b3}{sent_value}{b4};{}", self.before, self.after);
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&line).ok()?);
        Some(headers)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reads_what_the_cookie_crate_read_from_any_header(
        value in tricky_string(48),
        kind in kind(),
        secure in any::<bool>(),
        spelling in spelling(),
    ) {
        let key = Key::generate();
        let cookies = Cookies::new(key.clone(), secure, false);
        let (name, sealed) = sealed_pair(&cookies.set(kind, &value, Duration::from_secs(600)));
        let Some(headers) = spelling.request(&name, &sealed) else { return Ok(()) };
        prop_assert_eq!(cookies.read(&headers, kind), read_by_the_cookie_crate(&key, &headers, &name));
    }

    #[test]
    fn the_session_of_a_request_is_the_one_its_cookie_opens_to_each_time(spelling in spelling()) {
        // However a client spells or tampers with the cookie, and whether the store remembers it or not,
        // the session found is the one opening it as the `cookie` crate did leads to.
        let key = Key::generate();
        let store = SessionStore::new(NonZeroUsize::new(4).unwrap(), Duration::from_secs(600), Duration::from_secs(600));
        let sessions = Sessions::new(store, Cookies::new(key.clone(), true, false));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let id = runtime.block_on(sessions.begin(identity("alice"), None)).unwrap();
        let (name, sealed) = sealed_pair(&sessions.cookie(&id));
        let Some(headers) = spelling.request(&name, &sealed) else { return Ok(()) };
        // The browser's own request came first, and its cookie is remembered.
        let browser = request(&[(name.clone(), sealed.clone())]);
        prop_assert!(runtime.block_on(sessions.record(&browser)).unwrap().is_some());
        let opened = read_by_the_cookie_crate(&key, &headers, &name);
        let expected = opened.map(|opened| opened == id.as_cookie_value());
        for _ in 0..3 {
            let found = runtime.block_on(sessions.record(&headers)).unwrap().map(|record| record.account.home_account_id.as_str() == "alice");
            prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn any_cookie_header_is_read_without_panicking_and_never_trusted(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..3),
        kind in kind(),
        secure in any::<bool>(),
    ) {
        let cookies = Cookies::new(Key::generate(), secure, false);
        let mut headers = HeaderMap::new();
        for value in values {
            // What a client can put in a header at all: HTTP forbids control characters other than tab.
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(COOKIE, value);
            }
        }
        prop_assert_eq!(cookies.read(&headers, kind), None);
    }

    #[test]
    fn made_up_values_under_our_names_are_never_trusted(
        others in other_cookies(),
        kind in kind(),
        secure in any::<bool>(),
    ) {
        let cookies = Cookies::new(Key::generate(), secure, false);
        prop_assert_eq!(cookies.read(&request(&others), kind), None);
    }

    #[test]
    fn a_cookie_that_was_set_reads_back_among_any_others(
        value in tricky_string(64),
        kind in kind(),
        secure in any::<bool>(),
        cross_site in any::<bool>(),
        mut others in other_cookies(),
        at in any::<proptest::sample::Index>(),
    ) {
        let cookies = Cookies::new(Key::generate(), secure, cross_site);
        let set = cookies.set(kind, &value, Duration::from_secs(600));
        // Planted cookies of the same name (a sibling subdomain's) come first or last: each one is tried.
        others.insert(at.index(others.len() + 1), sealed_pair(&set));
        prop_assert_eq!(cookies.read(&request(&others), kind), Some(value));
    }

    #[test]
    fn a_tampered_cookie_is_never_accepted(value in tricky_string(32), kind in kind(), tamper in tamper()) {
        let cookies = Cookies::new(Key::generate(), true, false);
        let (name, sealed) = sealed_pair(&cookies.set(kind, &value, Duration::from_secs(600)));
        let tampered = tamper.apply(&sealed);
        prop_assume!(tampered.is_some());
        prop_assert_eq!(cookies.read(&request(&[(name, tampered.unwrap())]), kind), None);
    }

    #[test]
    fn a_cookie_is_never_read_under_the_other_name_or_with_another_key(value in tricky_string(32), kind in kind()) {
        let cookies = Cookies::new(Key::generate(), true, false);
        let (_, sealed) = sealed_pair(&cookies.set(kind, &value, Duration::from_secs(600)));
        let other_kind = match kind {
            CookieKind::Session => CookieKind::SignIn("tab"),
            CookieKind::SignIn(_) => CookieKind::Session,
        };
        let moved = request(&[(cookies.name(other_kind).to_owned(), sealed.clone())]);
        prop_assert_eq!(cookies.read(&moved, other_kind), None);
        let other_key = Cookies::new(Key::generate(), true, false);
        prop_assert_eq!(other_key.read(&request(&[(cookies.name(kind).to_owned(), sealed)]), kind), None);
    }
}
