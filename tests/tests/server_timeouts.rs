//! The examples' server closes stalled connections: a request head that does not arrive in full within the
//! header-read timeout (slowloris), and a request not answered within the request timeout (a body announced
//! and never sent), while requests that complete in time are served as usual. The harness serves `mail-app`
//! through `example_server::serve`, as its `main` does; here with short timeouts.

use std::time::Duration;

use msal_tests::{AppListener, Browser, TestApp, Timeouts};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Short, so the tests take seconds; the request timeout longer than the header-read one, so that each test
/// can tell which of the two closed its connection.
const TIMEOUTS: Timeouts = Timeouts { header_read: Duration::from_secs(1), request: Duration::from_secs(3) };

/// How much later than its timeout a connection may be closed: generous, for a loaded machine. Without the
/// timeouts the connections below stay open for good, so the tests fail here.
const LATE: Duration = Duration::from_secs(10);

async fn start() -> TestApp {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    let config = listener.config(&idp);
    listener.serve_router_with_timeouts(idp, config, TIMEOUTS, mail_app::router).await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.origin.socket_addrs(|| None).unwrap()[0];
    TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes the connection (end of stream or reset); what it sent before, as text.
/// Panics if it is still open `within` from now.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let mut buf = [0; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    String::from_utf8_lossy(&received).into_owned()
}

/// hyper closes a connection whose head timed out without answering; a `408` first would be as good.
fn assert_closed_unanswered_or_408(received: &str) {
    assert!(received.is_empty() || received.starts_with("HTTP/1.1 408 "), "{received:?}");
}

#[tokio::test]
async fn a_connection_that_sends_half_a_request_head_is_closed_at_the_header_read_timeout() {
    let app = start().await;
    let started = Instant::now();
    let mut stream = connect(&app).await;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    let received = read_until_closed(&mut stream, TIMEOUTS.header_read + LATE).await;
    let elapsed = started.elapsed();

    assert_closed_unanswered_or_408(&received);
    assert!(elapsed >= TIMEOUTS.header_read, "closed after {elapsed:?}, before the header-read timeout");
}

#[tokio::test]
async fn a_request_head_trickled_a_byte_at_a_time_is_cut_off_at_the_header_read_timeout() {
    let app = start().await;
    let started = Instant::now();
    let mut stream = connect(&app).await;
    // A byte every 100 ms keeps the connection busy: the timeout bounds the whole head, not the silence.
    let head = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: {}\r\n\r\n", "a".repeat(200));
    let mut unsent = head.as_bytes();
    let mut buf = [0; 1024];
    let received = tokio::time::timeout(TIMEOUTS.header_read + LATE, async {
        loop {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return String::new(),
                    Ok(n) => return String::from_utf8_lossy(&buf[..n]).into_owned(),
                },
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    assert!(unsent.len() > 1, "the whole head was sent before the server closed the connection");
                    if stream.write_all(&unsent[..1]).await.is_err() {
                        return String::new();
                    }
                    unsent = &unsent[1..];
                }
            }
        }
    })
    .await
    .expect("the server closes the connection");
    let elapsed = started.elapsed();

    assert_closed_unanswered_or_408(&received);
    assert!(elapsed >= TIMEOUTS.header_read, "closed after {elapsed:?}, before the header-read timeout");
}

#[tokio::test]
async fn a_request_whose_announced_body_never_comes_is_answered_408_at_the_request_timeout() {
    let app = start().await;
    let mut stream = connect(&app).await;
    // The callback (response_mode=form_post) reads its body: a head announcing 64 bytes, then 5 of them.
    let started = Instant::now();
    stream
        .write_all(
            b"POST /auth/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 64\r\n\r\ncode=",
        )
        .await
        .unwrap();

    let received = read_until_closed(&mut stream, TIMEOUTS.request + LATE).await;
    let elapsed = started.elapsed();

    assert!(received.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{received:?}");
    assert!(elapsed >= TIMEOUTS.request, "answered after {elapsed:?}, before the request timeout");
}

#[tokio::test]
async fn requests_that_complete_in_time_are_served_while_stalled_connections_are_held_open() {
    let app = start().await;
    let mut half_head = connect(&app).await;
    half_head.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut no_body = connect(&app).await;
    no_body.write_all(b"POST /auth/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n").await.unwrap();

    // A whole sign-in (the callback redeems the code at the provider), then pages of the signed-in user.
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let me = app.me(&browser).await.expect("signed in");
    assert_eq!(me["sub"], "alice");
    let home = browser.get(app.url("/")).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("Signed in as"));
}
