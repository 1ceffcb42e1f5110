//! Whether a request was made by a page of another origin (docs/SECURITY.md §28).
//!
//! `SameSite=Lax` keeps the session cookie off cross-site form posts, but not off requests from a sibling
//! origin of the same site (`evil.example.com` to `app.example.com`, another port on the same host), nor off
//! a top-level navigation such as a link to `/auth/signout`. So a request that changes something for the
//! signed-in user is judged by what the browser says of where it comes from: `Origin` when it sends one (the
//! exact origin, on every POST of a current browser), else Fetch Metadata's `Sec-Fetch-Site` (every current
//! browser, on every request; W3C Fetch Metadata Request Headers §2.1), else `Referer`. A request with none of
//! them comes from something that is not a browser page another site could have made send it (a script of
//! the user's own, an old browser), and passes.

use http::header::{ORIGIN, REFERER};
use http::{HeaderMap, Method};
use url::{Origin, Url};

/// The app's own origin and the origins it trusts besides.
#[derive(Debug, Clone)]
pub(crate) struct SameOrigin {
    app: Origin,
    trusted: Vec<Origin>,
}

impl SameOrigin {
    pub(crate) fn new(app: Origin, trusted: Vec<Origin>) -> Self {
        Self { app, trusted }
    }

    /// Whether a request with these headers was made by a page of an origin that is neither the app's nor
    /// trusted.
    pub(crate) fn is_cross_origin(&self, headers: &HeaderMap) -> bool {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        if headers.contains_key(ORIGIN) {
            // `Origin: null` (a sandboxed frame, a privacy-sensitive redirect) names no origin to trust.
            return !header(ORIGIN.as_str())
                .and_then(|origin| Url::parse(origin).ok())
                .is_some_and(|url| self.trusts(&url));
        }
        let referer_trusted =
            || header(REFERER.as_str()).and_then(|referer| Url::parse(referer).ok()).map(|url| self.trusts(&url));
        match header("sec-fetch-site").map(str::to_ascii_lowercase).as_deref() {
            // Typed into the address bar, a bookmark, or the app's own pages.
            Some("none" | "same-origin") => false,
            Some(_) => referer_trusted() != Some(true),
            None => referer_trusted() == Some(false),
        }
    }

    /// Whether an unsafe request (one that may change something, RFC 9110 §9.2.1) comes from another origin.
    pub(crate) fn is_cross_origin_change(&self, method: &Method, headers: &HeaderMap) -> bool {
        !is_safe(method) && self.is_cross_origin(headers)
    }

    fn trusts(&self, url: &Url) -> bool {
        let origin = url.origin();
        origin == self.app || self.trusted.contains(&origin)
    }
}

/// GET, HEAD, OPTIONS and TRACE are safe (RFC 9110 §9.2.1): they must not change anything.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn judge() -> SameOrigin {
        let app = Url::parse("https://app.example.com/auth/callback").unwrap().origin();
        SameOrigin::new(app, vec![Url::parse("https://admin.example.com").unwrap().origin()])
    }

    fn cross(headers: &[(&'static str, &'static str)]) -> bool {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        judge().is_cross_origin(&map)
    }

    #[test]
    fn origin_decides_when_the_browser_sends_it() {
        assert!(!cross(&[("origin", "https://app.example.com")]));
        assert!(!cross(&[("origin", "https://admin.example.com"), ("sec-fetch-site", "same-site")]));
        assert!(cross(&[("origin", "https://evil.example.com"), ("sec-fetch-site", "same-site")]));
        assert!(cross(&[("origin", "https://app.example.com:8443")]), "another port is another origin");
        assert!(cross(&[("origin", "http://app.example.com")]), "another scheme is another origin");
        assert!(cross(&[("origin", "null")]));
        assert!(cross(&[("origin", "https://evil.example.com"), ("sec-fetch-site", "same-origin")]));
    }

    #[test]
    fn fetch_metadata_decides_without_origin() {
        assert!(!cross(&[("sec-fetch-site", "same-origin")]));
        assert!(!cross(&[("sec-fetch-site", "none")]), "typed or bookmarked");
        assert!(cross(&[("sec-fetch-site", "cross-site")]));
        assert!(cross(&[("sec-fetch-site", "same-site")]));
        assert!(cross(&[("sec-fetch-site", "cross-site"), ("referer", "https://evil.example/page")]));
        assert!(!cross(&[("sec-fetch-site", "same-site"), ("referer", "https://admin.example.com/users")]));
    }

    #[test]
    fn referer_decides_last_and_nothing_at_all_passes() {
        assert!(cross(&[("referer", "https://evil.example/page")]));
        assert!(!cross(&[("referer", "https://app.example.com/mail")]));
        assert!(!cross(&[]), "not a browser page another site made send it");
        assert!(!cross(&[("referer", "not a url")]), "no origin to judge by");
    }

    #[test]
    fn only_unsafe_methods_are_changes() {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!judge().is_cross_origin_change(&Method::GET, &headers));
        assert!(!judge().is_cross_origin_change(&Method::HEAD, &headers));
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(judge().is_cross_origin_change(&method, &headers), "{method}");
        }
    }
}
