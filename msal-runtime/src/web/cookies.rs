//! The cookies the runtime sets, all opaque and encrypted (docs/SECURITY.md §16, §17): the session cookie (a
//! random session id), and one sign-in cookie per sign-in in progress, holding that sign-in's transaction
//! (see `sign_in::transaction`), so that the server keeps nothing of a sign-in until its callback arrives.
//!
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`; `Secure` with the `__Host-` prefix unless the app runs on
//! plain-http loopback, where browsers would refuse both. Values are sealed with AES-256-GCM, the cookie's name
//! bound in as associated data, so a cookie cannot be forged or moved to another name.
//!
//! The sealed format is the `cookie` crate's private jar's, which sealed these cookies before (so cookies
//! already in browsers still open, and the tests check both ways against that crate): standard base64 with
//! padding of nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes), with the encryption half of the same
//! `cookie::Key`. The cipher is keyed once here rather than on every call as the private jar does, and the
//! session cookie, read on every request, is opened without an allocation.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, Key, SameSite};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
// Names and values are percent-decoded as the `cookie` crate decodes them, with the crate it uses: `%` and two
// hex digits is that byte, any other `%` stays.
use percent_encoding::percent_decode as percent_decoded;

use crate::random::random_bytes;

/// Length of the key that signs and encrypts the cookies (`MSAL_COOKIE_KEY` once base64-decoded): 32 bytes
/// to sign and 32 to encrypt, as the `cookie` crate's `Key` takes it.
pub const COOKIE_KEY_LEN: usize = 64;

/// AES-GCM's nonce and tag, as the private jar lays them out.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Scratch space on the stack for opening a cookie (see [`scratch_len`]): enough for a value of up to 290 bytes
/// as sent. The session cookie's (about 100) always fits; a larger one (a sign-in's, up to 4 KiB) is opened on
/// the heap.
const STACK_SCRATCH: usize = 512;

/// Which cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CookieKind<'a> {
    Session,
    /// The sign-in whose transaction id (a short, unguessable name derived from its `state`) this is.
    SignIn(&'a str),
}

/// What every sign-in cookie's name starts with (after the `__Host-` prefix when there is one).
const SIGN_IN_PREFIX: &str = "msal_signin_";

/// Reads and writes the runtime's cookies.
#[derive(Clone)]
pub(crate) struct Cookies {
    /// AES-256-GCM under the key's encryption half, its key schedule computed once.
    cipher: Aes256Gcm,
    /// The session cookie's name, read on every request.
    session_name: Box<str>,
    secure: bool,
    /// form_post callbacks are cross-site POSTs: the sign-in cookie must then be `SameSite=None` to be sent.
    sign_in_cross_site: bool,
}

impl fmt::Debug for Cookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookies")
            .field("session_name", &self.session_name)
            .field("secure", &self.secure)
            .field("sign_in_cross_site", &self.sign_in_cross_site)
            .finish_non_exhaustive()
    }
}

impl Cookies {
    pub(crate) fn new(key: Key, secure: bool, sign_in_cross_site: bool) -> Self {
        // `Key::encryption` is the 32-byte half the private jar encrypts with; `Key` holds exactly that.
        let cipher = Aes256Gcm::new_from_slice(key.encryption()).expect("a cookie::Key encrypts with 32 bytes");
        let session_name = if secure { "__Host-msal_session" } else { "msal_session" }.into();
        Self { cipher, session_name, secure, sign_in_cross_site }
    }

    pub(crate) fn name(&self, kind: CookieKind<'_>) -> String {
        let host = if self.secure { "__Host-" } else { "" };
        match kind {
            CookieKind::Session => self.session_name.to_string(),
            CookieKind::SignIn(id) => format!("{host}{SIGN_IN_PREFIX}{id}"),
        }
    }

    /// The transaction ids of the sign-in cookies the request carries (their values unread).
    pub(crate) fn sign_in_ids(&self, headers: &HeaderMap) -> Vec<String> {
        let prefix = self.name(CookieKind::SignIn(""));
        request_pairs(headers)
            .filter_map(|(name, _)| {
                let name = if name.contains('%') {
                    String::from_utf8(percent_decoded(name.as_bytes()).collect()).ok()?
                } else {
                    name.to_owned()
                };
                name.strip_prefix(prefix.as_str()).map(str::to_owned)
            })
            .collect()
    }

    /// The decrypted value of the cookie; `None` when absent, tampered with, or sealed with another key.
    /// Several cookies of the same name (one planted by a sibling subdomain) are each tried.
    pub(crate) fn read(&self, headers: &HeaderMap, kind: CookieKind<'_>) -> Option<String> {
        let name = self.name(kind);
        let mut scratch = Scratch::default();
        request_pairs(headers)
            .filter(|(sent_name, _)| is_named(sent_name, &name))
            .find_map(|(_, sent_value)| self.open(&name, sent_value, &mut scratch).map(str::to_owned))
    }

    /// The values of the request's session cookies as sent (sealed, percent-encoded), in the order sent: one,
    /// unless a sibling subdomain planted more.
    pub(crate) fn session_values<'a>(&'a self, headers: &'a HeaderMap) -> impl Iterator<Item = &'a str> + 'a {
        request_pairs(headers).filter(|(sent_name, _)| is_named(sent_name, &self.session_name)).map(|(_, value)| value)
    }

    /// What `use_value` makes of the value a session cookie sent as `sent_value` was sealed with, which it
    /// only borrows (opened on the stack); `None` when it does not open (tampered with, another key).
    pub(crate) fn open_session<T>(&self, sent_value: &str, use_value: impl FnOnce(&str) -> T) -> Option<T> {
        let mut scratch = Scratch::default();
        self.open(&self.session_name, sent_value, &mut scratch).map(use_value)
    }

    /// A `Set-Cookie` value sealing `value`, kept for `max_age`.
    pub(crate) fn set(&self, kind: CookieKind<'_>, value: &str, max_age: std::time::Duration) -> HeaderValue {
        let name = self.name(kind);
        let sealed = self.seal(&name, value);
        let cookie = self.cookie(kind, sealed, max_age);
        HeaderValue::from_str(&cookie.encoded().to_string()).expect("a sealed cookie is visible ASCII")
    }

    /// A `Set-Cookie` value deleting the cookie.
    pub(crate) fn clear(&self, kind: CookieKind<'_>) -> HeaderValue {
        let cookie = self.cookie(kind, String::new(), std::time::Duration::ZERO);
        HeaderValue::from_str(&cookie.encoded().to_string()).expect("an empty cookie is visible ASCII")
    }

    fn cookie(&self, kind: CookieKind<'_>, value: String, max_age: std::time::Duration) -> Cookie<'static> {
        let same_site = match kind {
            CookieKind::SignIn(_) if self.sign_in_cross_site && self.secure => SameSite::None,
            _ => SameSite::Lax,
        };
        Cookie::build((self.name(kind), value))
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .path("/")
            .max_age(CookieDuration::seconds(max_age.as_secs().min(i64::MAX as u64) as i64))
            .build()
    }

    /// `value` sealed under `name`: base64 of a fresh random nonce, the ciphertext and the tag.
    fn seal(&self, name: &str, value: &str) -> String {
        let mut sealed = Vec::with_capacity(NONCE_LEN + value.len() + TAG_LEN);
        sealed.extend_from_slice(&random_bytes::<NONCE_LEN>());
        sealed.extend_from_slice(value.as_bytes());
        let (nonce, plaintext) = sealed.split_at_mut(NONCE_LEN);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), name.as_bytes(), plaintext)
            .expect("AES-GCM seals up to 64 GiB, and a cookie is a few KiB at most");
        sealed.extend_from_slice(&tag);
        STANDARD.encode(&sealed)
    }

    /// The value a cookie named `name` was sealed with, from its value as sent (percent-encoded), opened in
    /// `scratch`; `None` when it does not authenticate under this key and name.
    fn open<'s>(&self, name: &str, sent_value: &str, scratch: &'s mut Scratch) -> Option<&'s str> {
        let (text, bytes) = scratch.room(scratch_len(sent_value)).split_at_mut(sent_value.len());
        let mut text_len = 0;
        for (slot, byte) in text.iter_mut().zip(percent_decoded(sent_value.as_bytes())) {
            *slot = byte;
            text_len += 1;
        }
        let len = STANDARD.decode_slice(&text[..text_len], bytes).ok()?;
        if len < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = bytes[..len].split_at_mut(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        self.cipher
            .decrypt_in_place_detached(Nonce::from_slice(nonce), name.as_bytes(), ciphertext, Tag::from_slice(tag))
            .ok()?;
        std::str::from_utf8(ciphertext).ok()
    }
}

/// Where a cookie is opened: on the stack when it is small enough, as the session cookie is.
struct Scratch {
    stack: [u8; STACK_SCRATCH],
    heap: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self { stack: [0; STACK_SCRATCH], heap: Vec::new() }
    }
}

impl Scratch {
    /// `len` bytes of room.
    fn room(&mut self, len: usize) -> &mut [u8] {
        if len <= STACK_SCRATCH {
            &mut self.stack[..len]
        } else {
            self.heap.resize(len, 0);
            &mut self.heap[..len]
        }
    }
}

/// The scratch [`Cookies::open`] needs for a value of this length as sent: room for it percent-decoded,
/// then base64-decoded (three bytes for every four, rounded up).
fn scratch_len(sent_value: &str) -> usize {
    sent_value.len() + sent_value.len() / 4 * 3 + 3
}

/// The `name=value` pairs of a request's cookies as sent (percent-encoded), split as the `cookie` crate
/// splits them, which read them before: at each `;`, then at the first `=`, both sides trimmed; a pair
/// without `=` or without a name is skipped, never the others. (That crate trims Unicode whitespace; a
/// header value readable as a string has none but spaces and tabs, which `trim_ascii` trims too.)
fn request_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> + '_ {
    let lines = headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok());
    lines.flat_map(|line| line.split(';')).filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let name = name.trim_ascii();
        (!name.is_empty()).then(|| (name, value.trim_ascii()))
    })
}

/// Whether a cookie name as sent is `name`: the same, or the same once percent-decoded (as the `cookie`
/// crate decodes names; a browser sends back the name it was given, which needs no encoding).
fn is_named(sent: &str, name: &str) -> bool {
    sent == name || (sent.contains('%') && percent_decoded(sent.as_bytes()).eq(name.bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("other=1; {pair}")).unwrap());
        headers
    }

    #[test]
    fn secure_cookies_have_every_attribute() {
        let cookies = Cookies::new(Key::generate(), true, false);
        let header = cookies.set(CookieKind::Session, "session-id", std::time::Duration::from_secs(60));
        let text = header.to_str().unwrap();
        assert!(text.starts_with("__Host-msal_session="), "{text}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"] {
            assert!(text.contains(attribute), "{attribute} missing in {text}");
        }
        assert!(!text.contains("Domain") && !text.contains("session-id"), "{text}");
        assert_eq!(cookies.read(&request_with(&header), CookieKind::Session).as_deref(), Some("session-id"));
    }

    #[test]
    fn loopback_cookies_are_not_secure_and_form_post_sign_in_is_cross_site() {
        let plain = Cookies::new(Key::generate(), false, true);
        let text =
            plain.set(CookieKind::SignIn("b"), "b", std::time::Duration::from_secs(60)).to_str().unwrap().to_owned();
        assert!(
            text.starts_with("msal_signin_b=") && !text.contains("Secure") && text.contains("SameSite=Lax"),
            "{text}"
        );
        let secure = Cookies::new(Key::generate(), true, true);
        let text =
            secure.set(CookieKind::SignIn("b"), "b", std::time::Duration::from_secs(60)).to_str().unwrap().to_owned();
        assert!(text.contains("SameSite=None") && text.contains("Secure"), "{text}");
        let text =
            secure.set(CookieKind::Session, "s", std::time::Duration::from_secs(60)).to_str().unwrap().to_owned();
        assert!(text.contains("SameSite=Lax"), "{text}");
    }

    #[test]
    fn tampered_foreign_and_renamed_cookies_are_ignored() {
        let cookies = Cookies::new(Key::generate(), true, false);
        let header = cookies.set(CookieKind::Session, "session-id", std::time::Duration::from_secs(60));
        let other_key = Cookies::new(Key::generate(), true, false);
        assert_eq!(other_key.read(&request_with(&header), CookieKind::Session), None);
        let tampered = HeaderValue::from_str(&header.to_str().unwrap().replacen('=', "=A", 1)).unwrap();
        assert_eq!(cookies.read(&request_with(&tampered), CookieKind::Session), None);
        let renamed =
            HeaderValue::from_str(&header.to_str().unwrap().replace("__Host-msal_session", "__Host-msal_signin_b"))
                .unwrap();
        assert_eq!(cookies.read(&request_with(&renamed), CookieKind::SignIn("b")), None);
        let mut garbage = HeaderMap::new();
        garbage.insert(COOKIE, HeaderValue::from_static("__Host-msal_session=%%%; ;=;"));
        assert_eq!(cookies.read(&garbage, CookieKind::Session), None);
        let cleared = cookies.clear(CookieKind::Session).to_str().unwrap().to_owned();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }

    /// What the `cookie` crate's private jar opens from a `Set-Cookie` value, with `key`.
    fn opened_by_the_cookie_crate(key: &Key, set_cookie: &HeaderValue) -> Option<String> {
        let cookie = Cookie::parse_encoded(set_cookie.to_str().unwrap().to_owned()).unwrap();
        cookie::CookieJar::new().private(key).decrypt(cookie).map(|cookie| cookie.value().to_owned())
    }

    /// A request carrying `value` sealed under `name` by the `cookie` crate's private jar, as a browser sends it.
    fn sealed_by_the_cookie_crate(key: &Key, name: &str, value: &str) -> HeaderMap {
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(key).add(Cookie::new(name.to_owned(), value.to_owned()));
        let pair = jar.get(name).unwrap().encoded().to_string();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("other=1; {pair}")).unwrap());
        headers
    }

    #[test]
    fn the_sealed_format_is_the_cookie_crates_private_jar_both_ways() {
        // Cookies sealed before this module sealed them itself (with the `cookie` crate's private jar) must
        // still open, and the other way round: same key half, nonce, layout, base64 and associated data.
        let values = [
            String::new(),
            "session-id".to_owned(),
            crate::random::random_token(),
            r#"{"s":"état ✓","r":"/a?b=c;d=%20&e=+/="}"#.to_owned(),
            // Larger than what is opened on the stack, as a sign-in cookie can be.
            "x".repeat(3_000),
        ];
        for secure in [true, false] {
            let key = Key::generate();
            let cookies = Cookies::new(key.clone(), secure, false);
            for kind in [CookieKind::Session, CookieKind::SignIn("AbC-_9")] {
                let name = cookies.name(kind);
                for value in &values {
                    let set = cookies.set(kind, value, std::time::Duration::from_secs(60));
                    assert_eq!(opened_by_the_cookie_crate(&key, &set).as_ref(), Some(value), "{name}");
                    let theirs = sealed_by_the_cookie_crate(&key, &name, value);
                    assert_eq!(cookies.read(&theirs, kind).as_ref(), Some(value), "{name}");
                    // The name is bound in either way.
                    let other = if kind == CookieKind::Session { CookieKind::SignIn("b") } else { CookieKind::Session };
                    let moved = sealed_by_the_cookie_crate(&key, &cookies.name(other), value);
                    assert_eq!(cookies.read(&moved, kind), None);
                    let renamed =
                        HeaderValue::from_str(&set.to_str().unwrap().replacen(&name, &cookies.name(other), 1)).unwrap();
                    assert_eq!(opened_by_the_cookie_crate(&key, &renamed), None);
                }
            }
        }
    }

    #[test]
    fn names_and_values_are_percent_decoded_as_the_cookie_crate_decodes_them() {
        let cookies = Cookies::new(Key::generate(), false, false);
        let set = cookies.set(CookieKind::Session, "session-id", std::time::Duration::from_secs(60));
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        assert!(pair.contains("%3D"), "38 sealed bytes end in base64 padding, which is encoded: {pair}");
        // An encoded name is the same name, and surrounding blanks do not count.
        let encoded_name = pair.replacen("msal_session", "msal%5Fsession", 1).replacen('=', " = ", 1);
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("a; =b;;{encoded_name} ;c=%zz")).unwrap());
        assert_eq!(cookies.read(&headers, CookieKind::Session).as_deref(), Some("session-id"));
        assert_eq!(percent_decoded(b"%41%4a%zz%4%").collect::<Vec<u8>>(), b"AJ%zz%4%");
        assert_eq!(
            cookies.sign_in_ids(&request_with_line(
                "msal%5Fsignin_a=1; msal_signin_b=2; msal_signin=3; x_msal_signin_c=4"
            )),
            ["a", "b"]
        );
    }

    fn request_with_line(line: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static(line));
        headers
    }
}
