//! [`RequestKind`]: how the browser made a request, which decides what answer it can use when it needs the
//! user at the provider (see `interaction`).

use http::{HeaderMap, Method};

/// How the browser made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// A page load: follows redirects, shows pages.
    Navigation,
    /// A form submitted by navigation: redirected, it cannot be replayed, so it returns to its form page.
    FormPost,
    /// `fetch()` or XHR: needs a status and JSON it can act on (a redirect to the provider's origin would
    /// only fail, CORS forbidding the script to follow it).
    Fetch,
}

impl RequestKind {
    /// `Sec-Fetch-Mode` when the browser sends it (Fetch Metadata Request Headers); otherwise
    /// `X-Requested-With` or a JSON `Accept`.
    pub fn of(method: &Method, headers: &HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let scripted = headers.contains_key("x-requested-with")
            || match header("sec-fetch-mode") {
                Some(mode) => !mode.eq_ignore_ascii_case("navigate"),
                None => header("accept").is_some_and(prefers_json),
            };
        match (scripted, method) {
            (true, _) => RequestKind::Fetch,
            (false, &Method::GET | &Method::HEAD) => RequestKind::Navigation,
            (false, _) => RequestKind::FormPost,
        }
    }
}

fn prefers_json(accept: &str) -> bool {
    let accept = accept.to_ascii_lowercase();
    (accept.contains("application/json") || accept.contains("+json")) && !accept.contains("text/html")
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn kind(method: Method, headers: &[(&'static str, &'static str)]) -> RequestKind {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        RequestKind::of(&method, &map)
    }

    #[test]
    fn tells_navigations_form_posts_and_scripts_apart() {
        assert_eq!(
            kind(Method::GET, &[("sec-fetch-mode", "navigate"), ("accept", "text/html")]),
            RequestKind::Navigation
        );
        assert_eq!(kind(Method::GET, &[]), RequestKind::Navigation);
        assert_eq!(
            kind(Method::GET, &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")]),
            RequestKind::Navigation
        );
        assert_eq!(kind(Method::POST, &[("sec-fetch-mode", "navigate")]), RequestKind::FormPost);
        assert_eq!(kind(Method::POST, &[("content-type", "application/x-www-form-urlencoded")]), RequestKind::FormPost);
        assert_eq!(kind(Method::GET, &[("sec-fetch-mode", "cors")]), RequestKind::Fetch);
        assert_eq!(kind(Method::POST, &[("sec-fetch-mode", "same-origin")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("x-requested-with", "XMLHttpRequest")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("accept", "application/json")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("accept", "application/problem+json")]), RequestKind::Fetch);
        // A browser's own navigation header wins over a JSON Accept.
        assert_eq!(
            kind(Method::GET, &[("sec-fetch-mode", "navigate"), ("accept", "application/json")]),
            RequestKind::Navigation
        );
    }
}
