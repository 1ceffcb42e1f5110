//! Every call to the identity provider goes through here: timeouts, no redirects, a 1 MiB cap on what the
//! provider may send back (docs/SECURITY.md §23), and `Retry-After` read for the callers that honour it.

use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde::de::DeserializeOwned;
use url::Url;

/// Largest response body accepted from the provider.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A provider call that did not produce a response to interpret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Connection refused or reset, DNS failure, TLS failure or timeout (the message names the URL).
    #[error("could not reach the identity provider: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// The response body exceeded the 1 MiB cap.
    #[error("the identity provider at {url} sent more than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge {
        /// The endpoint called.
        url: Url,
    },
}

impl HttpError {
    /// Whether the request may not have reached the provider (a refused connection), so that sending it
    /// again cannot double-spend a one-time credential.
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, HttpError::Unreachable(source) if source.is_connect())
    }
}

/// The status, `Retry-After` and body of a provider response.
#[derive(Debug)]
pub(crate) struct ProviderResponse {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: bytes::Bytes,
}

impl ProviderResponse {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// The HTTP client for provider calls.
#[derive(Debug, Clone)]
pub(crate) struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A provider endpoint that redirects is misconfigured; following it could send a client secret
            // or a code to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("msal-runtime/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    pub(crate) async fn get(&self, url: &Url) -> Result<ProviderResponse, HttpError> {
        let request = self.client.get(url.clone()).header(http::header::ACCEPT, "application/json");
        self.send(url, request).await
    }

    /// POSTs `application/x-www-form-urlencoded` parameters, with HTTP Basic client authentication when given.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<ProviderResponse, HttpError> {
        let mut request = self.client.post(url.clone()).header(http::header::ACCEPT, "application/json").form(form);
        if let Some((user, password)) = basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        self.send(url, request).await
    }

    async fn send(&self, url: &Url, request: reqwest::RequestBuilder) -> Result<ProviderResponse, HttpError> {
        let mut response = request.send().await.map_err(HttpError::Unreachable)?;
        if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
            return Err(HttpError::TooLarge { url: url.clone() });
        }
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Unreachable)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge { url: url.clone() });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ProviderResponse { status, retry_after, body: body.freeze() })
    }
}

/// `Retry-After` is delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 25 Nov 2026 10:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 25 Nov 2026 09:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
