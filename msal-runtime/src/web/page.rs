//! The few HTML pages the runtime answers with itself: error pages, and the sign-out confirmation. Every
//! dynamic string is escaped, and a page may load nothing (`Content-Security-Policy: default-src 'none'`;
//! `form-action` is not covered by `default-src`, so a page's own form still posts).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};

/// An error page: a title, an explanation, and optionally a link to follow (such as "Sign in again").
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    let link = link
        .map(|(href, label)| format!(r#"<p><a href="{}">{}</a></p>"#, escape(href), escape(label)))
        .unwrap_or_default();
    page(status, title, &format!("<p>{}</p>{link}", escape(message)))
}

/// A page with `title` and `body`, which is HTML the caller has escaped.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>\n",
        title = escape(title),
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (REFERRER_POLICY, "no-referrer"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        body,
    )
        .into_response()
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;"
        );
    }

    #[tokio::test]
    async fn error_pages_escape_everything_and_send_hardening_headers() {
        let response = error_page(
            StatusCode::BAD_REQUEST,
            "Oops <b>",
            "<img src=x onerror=alert(1)>",
            Some(("/a?x=\"1\"", "again")),
        );
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("<img") && !body.contains("<b>"), "{body}");
        assert!(
            body.contains("&lt;img src=x onerror=alert(1)&gt;") && body.contains("href=\"/a?x=&quot;1&quot;\""),
            "{body}"
        );
    }
}
