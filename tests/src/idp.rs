//! The real identity provider of the tests: `tests/idp/provider.mjs` (node-oidc-provider) in a child process
//! on a free loopback port, stopped when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The public key of the `mail-app-jwt` client (private key: `msal-runtime/testdata/rsa-b.pem`).
pub const JWT_CLIENT_KEY_ID: &str = "client-key";

/// A running node-oidc-provider.
#[derive(Debug)]
pub struct TestIdp {
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    http: reqwest::Client,
    _child: Child,
}

fn idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idp")
}

impl TestIdp {
    /// Starts the provider with clients registered for `redirect_uris` and `post_logout_redirect_uris`.
    pub async fn start(redirect_uris: &[String], post_logout_redirect_uris: &[String]) -> TestIdp {
        let dir = idp_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test identity provider is not installed: run `npm ci --prefix tests/idp` (scripts/test does)"
        );
        // Start-up takes half a second; a start that hangs (seen once in a loaded CI-like run, never
        // reproduced) is killed and retried rather than failing the test that needed a provider.
        for attempt in 1..=3 {
            match Self::spawn(&dir, redirect_uris, post_logout_redirect_uris).await {
                Ok(idp) => return idp,
                Err(problem) => eprintln!("[idp] start attempt {attempt} failed: {problem}"),
            }
        }
        panic!("the identity provider did not start in three attempts (see [idp] lines above)")
    }

    async fn spawn(
        dir: &std::path::Path,
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
    ) -> Result<TestIdp, String> {
        let mut jwk: Value = serde_json::from_str(include_str!("../../msal-runtime/testdata/rsa-b.jwk.json")).unwrap();
        jwk["kid"] = json!(JWT_CLIENT_KEY_ID);
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("IDP_PORT", "0")
            .env("IDP_REDIRECT_URIS", redirect_uris.join(","))
            .env("IDP_POST_LOGOUT_REDIRECT_URIS", post_logout_redirect_uris.join(","))
            .env("IDP_JWT_CLIENT_JWKS", json!({ "keys": [jwk] }).to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot start `node` (Node.js 20 must be on PATH): {error}"))?;

        // Forward the provider's stderr into the test's output (shown when a test fails).
        let stderr = child.stderr.take().unwrap();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if !line.contains("WARNING") {
                    eprintln!("[idp] {line}");
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = match tokio::time::timeout(Duration::from_secs(15), lines.next_line()).await {
            Err(_) => return Err("no issuer printed within 15 s".to_owned()),
            Ok(Err(error)) => return Err(format!("reading its output: {error}")),
            Ok(Ok(None)) => return Err(format!("it exited: {:?}", child.try_wait())),
            Ok(Ok(Some(line))) => line,
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let started: Value = serde_json::from_str(&first).map_err(|_| format!("unexpected first line {first:?}"))?;
        Ok(TestIdp {
            issuer: started["issuer"].as_str().unwrap().to_owned(),
            http: reqwest::Client::new(),
            _child: child,
        })
    }

    async fn control(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/__test/{path}", self.issuer);
        let request = match body {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        let response = request.send().await.expect("test control request");
        assert!(response.status().is_success(), "test control {path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// Requests per endpoint (`"POST /token"`), successful grants per type and failed grants.
    pub async fn counters(&self) -> Value {
        self.control("counters", None).await
    }

    /// How many requests reached `route` (such as `POST /token` or `GET /jwks`).
    pub async fn requests(&self, route: &str) -> u64 {
        self.counters().await["requests"][route].as_u64().unwrap_or(0)
    }

    /// How many grants of `grant_type` succeeded.
    pub async fn grants(&self, grant_type: &str) -> u64 {
        self.counters().await["grants"][grant_type].as_u64().unwrap_or(0)
    }

    /// Changes provider settings (`accessTokenTtl`, `rotateRefreshToken`, `hiddenKids`, …).
    pub async fn settings(&self, settings: Value) -> Value {
        self.control("settings", Some(settings)).await
    }

    /// Injects a fault: `{"route": "POST /token", "status": 503, "retryAfter": 2, "count": 1, "delayMs": 0}`.
    pub async fn fault(&self, fault: Value) {
        self.control("faults", Some(fault)).await;
    }

    /// Clears counters and faults.
    pub async fn reset(&self) {
        self.control("reset", Some(json!({}))).await;
    }
}
