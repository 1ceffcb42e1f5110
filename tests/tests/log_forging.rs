//! Logs that cannot be forged (docs/SECURITY.md §29): every value a request controls is written into log lines
//! escaped, so that CR and LF cannot start a forged line and ESC cannot send terminal escape codes. Each path
//! that logs request input is fed all three, and the captured output is checked line by line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use msal_tests::{Browser, TestApp};
use reqwest::StatusCode;
use tracing_subscriber::EnvFilter;

/// What the runtime logged, as the fmt subscriber writes it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A value that would forge a log line and clear the terminal if it were written raw.
const FORGERY: &str = "x\r\n INFO msal_runtime: forged admin signed in\u{1b}[2J";

#[tokio::test]
async fn values_from_requests_are_logged_escaped_never_raw() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("msal_runtime=trace"))
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(move || writer.clone())
        .init();

    let app = TestApp::start().await;
    let browser = Browser::new();

    // The provider's error response, as any client can write it into the callback URL (error, description).
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let forged = response
        .with_param("code", None)
        .with_param("error", Some(FORGERY))
        .with_param("error_description", Some(FORGERY));
    assert_eq!(browser.deliver(&forged).await.status(), StatusCode::BAD_REQUEST);

    // A parameter's name: a duplicated one is named in the rejection.
    let name = "a%0D%0A%20INFO%20forged%1B%5B2J";
    let duplicated = browser.get(app.url(&format!("/auth/callback?state=s&{name}=1&{name}=2"))).await;
    assert_eq!(duplicated.status(), StatusCode::BAD_REQUEST);

    let log = captured.text();
    assert!(log.contains("sign-in rejected"), "the paths under test logged: {log}");
    assert!(log.matches("forged").count() >= 3, "every forged value reached the log, escaped: {log}");
    assert!(!log.contains('\r') && !log.contains('\u{1b}'), "a raw CR or ESC reached the log: {log:?}");
    for line in log.lines() {
        let level = line.trim_start().split(' ').next().unwrap_or_default();
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "a line the runtime did not write: {line:?}"
        );
        assert!(!line.trim_start().starts_with("INFO msal_runtime: forged"), "{line:?}");
    }
}
