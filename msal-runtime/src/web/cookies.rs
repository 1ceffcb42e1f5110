//! The two cookies the runtime sets, both opaque and encrypted (docs/SECURITY.md §16, §17):
//! the session cookie (a random session id) and the sign-in cookie (a random id of this browser, binding each
//! pending sign-in to the browser that started it).
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
pub(crate) enum CookieKind {
    Session,
    SignIn,
}

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

    pub(crate) fn name(&self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Session, true) => "__Host-msal_session",
            (CookieKind::Session, false) => "msal_session",
            (CookieKind::SignIn, true) => "__Host-msal_signin",
            (CookieKind::SignIn, false) => "msal_signin",
        }
    }

    /// The decrypted value of the cookie; `None` when absent, tampered with, or sealed with another key.
    /// Several cookies of the same name (one planted by a sibling subdomain) are each tried.
    pub(crate) fn read(&self, headers: &HeaderMap, kind: CookieKind) -> Option<String> {
        let name = self.name(kind);
        let jar = CookieJar::new();
        let private = jar.private(&self.key);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse_encoded)
            .filter_map(Result::ok)
            .filter(|cookie| cookie.name() == name)
            .find_map(|cookie| private.decrypt(cookie.into_owned()))
            .map(|cookie| cookie.value().to_owned())
    }

    /// A `Set-Cookie` value sealing `value`, kept for `max_age`.
    pub(crate) fn set(&self, kind: CookieKind, value: &str, max_age: std::time::Duration) -> HeaderValue {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.cookie(kind, value.to_owned(), max_age));
        let sealed = jar.get(self.name(kind)).expect("the cookie was just added");
        HeaderValue::from_str(&sealed.encoded().to_string()).expect("a sealed cookie is visible ASCII")
    }

    /// A `Set-Cookie` value deleting the cookie.
    pub(crate) fn clear(&self, kind: CookieKind) -> HeaderValue {
        let cookie = self.cookie(kind, String::new(), std::time::Duration::ZERO);
        HeaderValue::from_str(&cookie.encoded().to_string()).expect("an empty cookie is visible ASCII")
    }

    fn cookie(&self, kind: CookieKind, value: String, max_age: std::time::Duration) -> Cookie<'static> {
        let same_site = match kind {
            CookieKind::SignIn if self.sign_in_cross_site && self.secure => SameSite::None,
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
        let text = plain.set(CookieKind::SignIn, "b", std::time::Duration::from_secs(60)).to_str().unwrap().to_owned();
        assert!(
            text.starts_with("msal_signin=") && !text.contains("Secure") && text.contains("SameSite=Lax"),
            "{text}"
        );
        let secure = Cookies::new(Key::generate(), true, true);
        let text = secure.set(CookieKind::SignIn, "b", std::time::Duration::from_secs(60)).to_str().unwrap().to_owned();
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
            HeaderValue::from_str(&header.to_str().unwrap().replace("__Host-msal_session", "__Host-msal_signin"))
                .unwrap();
        assert_eq!(cookies.read(&request_with(&renamed), CookieKind::SignIn), None);
        let mut garbage = HeaderMap::new();
        garbage.insert(COOKIE, HeaderValue::from_static("__Host-msal_session=%%%; ;=;"));
        assert_eq!(cookies.read(&garbage, CookieKind::Session), None);
        let cleared = cookies.clear(CookieKind::Session).to_str().unwrap().to_owned();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }
}
