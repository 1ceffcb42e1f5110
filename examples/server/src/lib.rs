//! How the examples (and the end-to-end tests) serve a router: HTTP/1.1 on a [`TcpListener`], with two timeouts
//! that close stalled connections, and graceful shutdown.
//!
//! `axum::serve` has no timeout at all: a client that sends half a request head (slowloris), or announces a
//! body and never sends it, holds its connection, its task and its memory for as long as it likes. So the
//! examples serve through hyper's own HTTP/1 server, which can bound reading the request head, with a
//! request timeout on the router:
//!
//! - the **header-read timeout** ([`Timeouts::header_read`], default 10 s): a request head (request line and
//!   headers) must arrive in full within this time of the server starting to read it, however slowly it
//!   trickles in; otherwise the connection is closed without an answer. The same bound closes a kept-alive
//!   connection that stays idle this long between requests.
//! - the **request timeout** ([`Timeouts::request`], default 30 s): a request must be answered within this time
//!   of its head having arrived, reading its body included; otherwise it is answered `408 Request Timeout`,
//!   and its connection is closed if its body was not read to the end (a body announced and never sent).
//!
//! The same in a few lines, without graceful shutdown (the README's quick start shows this):
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use axum::Router;
//! use axum::http::StatusCode;
//! use hyper_util::rt::{TokioIo, TokioTimer};
//! use hyper_util::service::TowerToHyperService;
//! use tower_http::timeout::TimeoutLayer;
//!
//! # async fn run(app: Router) -> std::io::Result<()> {
//! let app = app.layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! let mut http = hyper::server::conn::http1::Builder::new();
//! http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     tokio::spawn(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone())));
//! }
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower_http::timeout::TimeoutLayer;

/// How long a connection may take to send a request head, and a request to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the server starting to read a request head (on a new connection, or after the previous answer on
    /// a kept-alive one) to the head's last byte; past it the connection is closed. Default 10 s.
    pub header_read: Duration,
    /// From a request's head having arrived to its answer (the handler, reading the body included); past it
    /// the answer is `408 Request Timeout`. Default 30 s.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

impl Timeouts {
    /// 10 s to send a request head, 30 s to answer a request: ample for browsers and API clients on slow
    /// networks, short enough that stalled connections do not pile up.
    pub const DEFAULT: Timeouts = Timeouts { header_read: Duration::from_secs(10), request: Duration::from_secs(30) };

    /// The timeouts from `<prefix>HEADER_READ_TIMEOUT_SECS` and `<prefix>REQUEST_TIMEOUT_SECS` (whole seconds,
    /// at least 1); either one unset keeps its default. `mail-app` reads `APP_…`, `mail-api` reads `MAIL_API_…`,
    /// next to their `APP_ADDR` and `MAIL_API_ADDR`.
    pub fn from_env(prefix: &str) -> Result<Timeouts, TimeoutsError> {
        Timeouts::from_vars(prefix, |name| std::env::var(name).ok())
    }

    /// [`Timeouts::from_env`] over any source of variables (the tests cannot set the process's environment
    /// without `unsafe`).
    fn from_vars(prefix: &str, var: impl Fn(&str) -> Option<String>) -> Result<Timeouts, TimeoutsError> {
        let seconds = |suffix: &str, default: Duration| {
            let variable = format!("{prefix}{suffix}");
            match var(&variable) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
                    _ => Err(TimeoutsError { variable, value }),
                },
            }
        };
        Ok(Timeouts {
            header_read: seconds("HEADER_READ_TIMEOUT_SECS", Timeouts::DEFAULT.header_read)?,
            request: seconds("REQUEST_TIMEOUT_SECS", Timeouts::DEFAULT.request)?,
        })
    }
}

/// A timeout variable that is not a whole number of seconds of at least 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutsError {
    variable: String,
    value: String,
}

impl fmt::Display for TimeoutsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?} must be a whole number of seconds, at least 1", self.variable, self.value)
    }
}

impl std::error::Error for TimeoutsError {}

/// Serves `router` on `listener` with `timeouts` until `shutdown` completes, then stops accepting, lets each open
/// connection finish the request it is in (idle ones are closed at once) and returns when all are closed, or
/// after `timeouts.header_read + timeouts.request` (the longest a request begun before the shutdown may still
/// take to be answered), dropping those left, whose clients do not read their answers.
///
/// HTTP/1.1 only, without upgrades: neither example needs HTTP/2 or WebSockets. Errors accepting a connection
/// are logged and ridden out, as `axum::serve` does, so this runs until `shutdown`.
pub async fn serve(listener: TcpListener, router: Router, timeouts: Timeouts, shutdown: impl Future<Output = ()>) {
    // A layer on the router (not around it) so that it also bounds the fallback and every merged router.
    let router = router.layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeouts.request));
    let mut http = http1::Builder::new();
    // hyper enforces the header-read timeout only with a timer; without one it would never close a slow head.
    http.timer(TokioTimer::new()).header_read_timeout(timeouts.header_read);

    let connections = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            stream = accept(&listener) => stream,
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            // A timed-out head or a client gone mid-request ends here: the client's doing, not the server's.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    drop(listener);

    let open = connections.count();
    if open > 0 {
        tracing::info!(open, "shutting down: waiting for open connections to finish their requests");
    }
    if tokio::time::timeout(timeouts.header_read + timeouts.request, connections.shutdown()).await.is_err() {
        tracing::warn!("shutting down: dropping connections whose clients do not read their answers");
    }
}

/// The next connection. Errors of one connection (reset before it was accepted) are skipped; others, such as
/// running out of file descriptors, are logged and retried a second later rather than spinning.
async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::error!(%error, "cannot accept connections; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::{Notify, oneshot};

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn unset_variables_keep_the_documented_defaults() {
        let timeouts = Timeouts::from_vars("APP_", vars(&[])).unwrap();
        assert_eq!(timeouts, Timeouts { header_read: Duration::from_secs(10), request: Duration::from_secs(30) });
        assert_eq!(Timeouts::default(), timeouts);
    }

    #[test]
    fn each_variable_sets_its_timeout_in_seconds_under_the_given_prefix() {
        let source = vars(&[("MAIL_API_HEADER_READ_TIMEOUT_SECS", "5"), ("APP_REQUEST_TIMEOUT_SECS", " 60 ")]);
        assert_eq!(
            Timeouts::from_vars("APP_", &source).unwrap(),
            Timeouts { header_read: Duration::from_secs(10), request: Duration::from_secs(60) }
        );
        assert_eq!(
            Timeouts::from_vars("MAIL_API_", &source).unwrap(),
            Timeouts { header_read: Duration::from_secs(5), request: Duration::from_secs(30) }
        );
    }

    #[test]
    fn a_value_that_is_not_whole_seconds_of_at_least_one_is_refused_naming_the_variable() {
        for value in ["0", "-1", "1.5", "10s", ""] {
            let error = Timeouts::from_vars("APP_", vars(&[("APP_REQUEST_TIMEOUT_SECS", value)])).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("APP_REQUEST_TIMEOUT_SECS={value:?} must be a whole number of seconds, at least 1")
            );
        }
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_be_answered_then_stops_serving() {
        let (started_tx, started_rx) = oneshot::channel::<()>();
        // Handlers are cloned per request; the one request takes the sender.
        let started_tx = Arc::new(Mutex::new(Some(started_tx)));
        let release = Arc::new(Notify::new());
        let router = {
            let release = Arc::clone(&release);
            Router::new().route(
                "/slow",
                get(move || async move {
                    if let Some(started) = started_tx.lock().unwrap().take() {
                        started.send(()).unwrap();
                    }
                    release.notified().await;
                    "done"
                }),
            )
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, Timeouts::DEFAULT, async {
            shutdown_rx.await.ok();
        }));

        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        started_rx.await.unwrap();
        shutdown_tx.send(()).unwrap();
        // The server stops accepting at once, yet waits for the request it is answering.
        tokio::time::timeout(Duration::from_secs(10), async {
            while TcpStream::connect(addr).await.is_ok() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the listener is closed after the shutdown signal");
        assert!(!server.is_finished(), "serve returned with a request in flight");

        release.notify_one();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), client.read_to_string(&mut answer))
            .await
            .expect("the connection is closed after its answer")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve returns once its connections are closed")
            .unwrap();
    }
}
