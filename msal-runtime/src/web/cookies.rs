//! The cookies the runtime sets, all opaque and encrypted (docs/SECURITY.md §16, §17): the session cookie (a
//! random session id), and one sign-in cookie per sign-in in progress, holding that sign-in's transaction
//! (see `sign_in::transaction`), so that the server keeps nothing of a sign-in until its callback arrives.
//!
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`; `Secure` with the `__Host-` prefix unless the app runs on
//! plain-http loopback, where browsers would refuse both. Values are sealed with AES-GCM by the `cookie` crate
//! (the cookie's name is bound in), so a cookie cannot be forged or moved to another name.

use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, CookieJar, Key, SameSite};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

/// Length of the key that signs and encrypts the cookies (`MSAL_COOKIE_KEY` once base64-decoded): 32 bytes
/// to sign and 32 to encrypt, as the `cookie` crate's `Key` takes it.
pub const COOKIE_KEY_LEN: usize = 64;

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
#[derive(Debug, Clone)]
pub(crate) struct Cookies {
    key: Key,
    secure: bool,
    /// form_post callbacks are cross-site POSTs: the sign-in cookie must then be `SameSite=None` to be sent.
    sign_in_cross_site: bool,
}

impl Cookies {
    pub(crate) fn new(key: Key, secure: bool, sign_in_cross_site: bool) -> Self {
        Self { key, secure, sign_in_cross_site }
    }

    pub(crate) fn name(&self, kind: CookieKind<'_>) -> String {
        let host = if self.secure { "__Host-" } else { "" };
        match kind {
            CookieKind::Session => format!("{host}msal_session"),
            CookieKind::SignIn(id) => format!("{host}{SIGN_IN_PREFIX}{id}"),
        }
    }

    /// The transaction ids of the sign-in cookies the request carries (their values unread).
    pub(crate) fn sign_in_ids(&self, headers: &HeaderMap) -> Vec<String> {
        let prefix = self.name(CookieKind::SignIn(""));
        request_cookies(headers)
            .filter_map(|cookie| cookie.name().strip_prefix(prefix.as_str()).map(str::to_owned))
            .collect()
    }

    /// The decrypted value of the cookie; `None` when absent, tampered with, or sealed with another key.
    /// Several cookies of the same name (one planted by a sibling subdomain) are each tried.
    pub(crate) fn read(&self, headers: &HeaderMap, kind: CookieKind<'_>) -> Option<String> {
        let name = self.name(kind);
        let jar = CookieJar::new();
        let private = jar.private(&self.key);
        request_cookies(headers)
            .filter(|cookie| cookie.name() == name)
            .find_map(|cookie| private.decrypt(cookie))
            .map(|cookie| cookie.value().to_owned())
    }

    /// A `Set-Cookie` value sealing `value`, kept for `max_age`.
    pub(crate) fn set(&self, kind: CookieKind<'_>, value: &str, max_age: std::time::Duration) -> HeaderValue {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.cookie(kind, value.to_owned(), max_age));
        let sealed = jar.get(&self.name(kind)).expect("the cookie was just added");
        HeaderValue::from_str(&sealed.encoded().to_string()).expect("a sealed cookie is visible ASCII")
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
}

/// The cookies of a request, each parsed on its own: a malformed one is skipped, never the others.
fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = Cookie<'static>> + '_ {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .map(Cookie::into_owned)
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
}
