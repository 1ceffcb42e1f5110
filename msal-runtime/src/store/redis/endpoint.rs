//! Which Redis a store talks to: its URL checked and parsed, how the server is named in errors and `Debug`
//! (scheme, host, port and database, never the credentials), and every request bounded by the store's timeout
//! with its failure turned into [`StoreError::Unavailable`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::store::error::StoreError;

/// A Redis server, as a client of the `redis` crate and as shown to people.
#[derive(Clone)]
pub(super) struct Endpoint {
    pub(super) client: ::redis::Client,
    /// `redis://host:port` or `rediss://host:port/db`: what errors and `Debug` name.
    shown: Arc<str>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// A setting this backend does not take; a reason never repeats the URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Misconfigured {
    #[error("invalid Redis URL: {0} (expected redis://[user[:password]@]host[:port][/db] or rediss://…)")]
    Url(String),
    #[error("invalid Redis key prefix: {0}")]
    KeyPrefix(&'static str),
    #[error("invalid Redis timeout: it must be more than zero")]
    Timeout,
}

/// Redis did not do what was asked: the source of a [`StoreError::Unavailable`] from this backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedisUnavailable {
    #[error("Redis at {server} did not answer within {timeout:?}")]
    TimedOut { server: Arc<str>, timeout: Duration },
    #[error("Redis at {server} failed: {source}")]
    Failed {
        server: Arc<str>,
        #[source]
        source: ::redis::RedisError,
    },
    #[error("Redis at {server} holds a malformed entry under {key}")]
    Malformed { server: Arc<str>, key: String },
}

impl Endpoint {
    /// Checks and parses `url`: `redis://` or `rediss://` (TLS, certificates always verified), a host, and
    /// optionally credentials, a port and a database number.
    pub(super) fn parse(url: &str) -> Result<Endpoint, StoreError> {
        let invalid = |reason: String| StoreError::unavailable(Misconfigured::Url(reason));
        // `url`'s parse errors describe the problem without quoting the input.
        let parsed = url::Url::parse(url).map_err(|error| invalid(format!("not a URL ({error})")))?;
        let scheme = parsed.scheme();
        if scheme != "redis" && scheme != "rediss" {
            return Err(invalid(format!("the scheme is {scheme}:, not redis: or rediss:")));
        }
        let Some(host) = parsed.host_str().filter(|host| !host.is_empty()) else {
            return Err(invalid("no host".to_owned()));
        };
        if parsed.fragment().is_some() {
            // `#insecure` would turn certificate checks off; this backend does not build that feature.
            return Err(invalid("a fragment (#…) is not supported".to_owned()));
        }
        let port = parsed.port().unwrap_or(6379);
        let database = parsed.path().trim_matches('/');
        let mut shown = format!("{scheme}://{host}:{port}");
        if !database.is_empty() {
            shown.push('/');
            shown.push_str(database);
        }
        let client = ::redis::Client::open(url).map_err(|error| invalid(error.to_string()))?;
        Ok(Endpoint { client, shown: shown.into() })
    }

    /// The error of a request that failed with `source`.
    pub(super) fn failed(&self, source: ::redis::RedisError) -> StoreError {
        StoreError::unavailable(RedisUnavailable::Failed { server: self.shown.clone(), source })
    }

    /// The error of finding something under `key` that this backend did not write.
    pub(super) fn malformed(&self, key: &str) -> StoreError {
        StoreError::unavailable(RedisUnavailable::Malformed { server: self.shown.clone(), key: key.to_owned() })
    }

    /// `request`'s answer if it comes within `timeout`; [`StoreError::Unavailable`] if it fails or does not
    /// come (the request is then dropped).
    pub(super) async fn bounded<T>(
        &self,
        timeout: Duration,
        request: impl Future<Output = ::redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(timeout, request).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(self.failed(error)),
            Err(_) => Err(StoreError::unavailable(RedisUnavailable::TimedOut { server: self.shown.clone(), timeout })),
        }
    }
}
