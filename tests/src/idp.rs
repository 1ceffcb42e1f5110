//! The real identity provider of the tests: `tests/idp/provider.mjs` (node-oidc-provider) in a child process
//! on a free loopback port, stopped when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The public key of the `mail-app-jwt` client (private key: `msal-runtime/testdata/rsa-b.pem`).
pub const JWT_CLIENT_KEY_ID: &str = "client-key";

/// A running node-oidc-provider.
#[derive(Debug)]
pub struct TestIdp {
    /// Its issuer, `http://127.0.0.1:<port>` (plus the path it was started with, if any).
    pub issuer: String,
    /// `http://127.0.0.1:<port>`, where the test control routes are whatever the issuer's path.
    origin: String,
    http: reqwest::Client,
    _child: Child,
}

fn idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idp")
}

impl TestIdp {
    /// Starts the provider with clients registered for `redirect_uris` and `post_logout_redirect_uris`.
    pub async fn start(redirect_uris: &[String], post_logout_redirect_uris: &[String]) -> TestIdp {
        Self::start_at_path(redirect_uris, post_logout_redirect_uris, "").await
    }

    /// [`start`](Self::start), with the issuer at `issuer_path` (such as `/idp`: `http://127.0.0.1:<port>/idp`),
    /// as MSAL libraries expect an authority with a tenant segment. `""`: at the origin.
    pub async fn start_at_path(
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        issuer_path: &str,
    ) -> TestIdp {
        let dir = idp_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test identity provider is not installed: run `npm ci --prefix tests/idp` (scripts/test does)"
        );
        // Start-up takes half a second; a start that hangs (seen once in a loaded CI-like run, never
        // reproduced) is killed and retried rather than failing the test that needed a provider.
        for attempt in 1..=3 {
            match Self::spawn(&dir, redirect_uris, post_logout_redirect_uris, issuer_path).await {
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
        issuer_path: &str,
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
            .env("IDP_ISSUER_PATH", issuer_path)
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
            origin: format!("http://127.0.0.1:{}", started["port"]),
            http: reqwest::Client::new(),
            _child: child,
        })
    }

    /// The status and JSON answer of a test control route (`None`: a GET), whatever they are.
    async fn exchange(&self, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let url = format!("{}/__test/{path}", self.origin);
        let request = match body {
            Some(body) => self.http.post(url).json(body),
            None => self.http.get(url),
        };
        let response = request.send().await.expect("test control request");
        let status = response.status();
        let text = response.text().await.expect("test control answer");
        // A body that is not JSON is kept as text, so that it still reaches the panic message.
        let answer = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, answer)
    }

    async fn control(&self, path: &str, body: Option<&Value>) -> Value {
        let (status, answer) = self.exchange(path, body).await;
        assert!(status.is_success(), "test control {path} answered {status}: {answer}");
        answer
    }

    /// Posts `body` as it is to `/__test/{path}` and returns the answer without judging it: for the tests of
    /// the control endpoints' own refusals. Everything else goes through [`settings`](Self::settings) and
    /// [`fault`](Self::fault), which cannot misspell a key.
    #[doc(hidden)]
    pub async fn post_unchecked(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.exchange(path, Some(&body)).await
    }

    /// Requests per endpoint (`"POST /token"`), successful grants per type and failed grants.
    pub async fn counters(&self) -> Value {
        self.control("counters", None).await
    }

    /// Redeems `refresh_token` as client `mail-app` would, outside the app: whether the provider still honours
    /// it (a grant revoked by a reused rotating refresh token does not), with the answer's body.
    pub async fn refresh_token_works(&self, refresh_token: &str) -> (bool, String) {
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth("mail-app", Some("mail-app-secret"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
            .send()
            .await
            .unwrap();
        (response.status().is_success(), response.text().await.unwrap())
    }

    /// An access token for the mail API that the daemon `client` (`mail-daemon`, granted the app role
    /// `Mail.Read.All`, or `mail-daemon-unassigned`, granted none) gets as itself with the client credentials
    /// grant, asking for `api://mail-api/.default` as an MSAL confidential client does.
    pub async fn app_token(&self, client: &str) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(format!("{client}-secret")))
            .form(&[("grant_type", "client_credentials"), ("scope", "api://mail-api/.default")])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status.is_success(), "client credentials of {client}: {status} {answer}");
        answer["access_token"].as_str().expect("an access token").to_owned()
    }

    /// How many requests reached `route` (such as `POST /token` or `GET /jwks`).
    pub async fn requests(&self, route: &str) -> u64 {
        self.counters().await["requests"][route].as_u64().unwrap_or(0)
    }

    /// How many grants of `grant_type` succeeded.
    pub async fn grants(&self, grant_type: &str) -> u64 {
        self.counters().await["grants"][grant_type].as_u64().unwrap_or(0)
    }

    /// Failed grants counted by `"<grant_type>:<error>"`, `{}` when none failed (a refresh token redeemed
    /// twice, which makes the provider revoke the grant, shows up here).
    pub async fn grant_errors(&self) -> Value {
        self.counters().await["grantErrors"].take()
    }

    /// Changes the provider's settings; those `settings` leaves unset keep their value. Panics with the
    /// provider's reason if it refuses them.
    pub async fn settings(&self, settings: IdpSettings) {
        self.control("settings", Some(&settings.to_json())).await;
    }

    /// Injects `fault`, replacing any earlier one on its route. Panics with the provider's reason if it
    /// refuses it.
    pub async fn fault(&self, fault: Fault) {
        self.control("faults", Some(&fault.to_json())).await;
    }

    /// Clears counters and faults.
    pub async fn reset(&self) {
        self.control("reset", Some(&json!({}))).await;
    }
}

/// Provider settings to change (`POST /__test/settings`), built up from [`IdpSettings::new`]; what is left
/// unset keeps its current value. They apply to what the provider issues from then on.
///
/// ```no_run
/// # async fn example(idp: &msal_tests::TestIdp) {
/// use std::time::Duration;
/// use msal_tests::IdpSettings;
///
/// idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120)).rotate_refresh_token(true)).await;
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct IdpSettings {
    access_token_ttl: Option<Duration>,
    refresh_token_ttl: Option<Duration>,
    rotate_refresh_token: Option<bool>,
    hidden_kids: Option<Vec<String>>,
    refresh_tokens_cover_grant: Option<bool>,
    refresh_tokens_accept_reserved_scopes: Option<bool>,
    exchange_claims_challenge: Option<Option<String>>,
}

impl IdpSettings {
    /// No change yet.
    pub fn new() -> IdpSettings {
        IdpSettings::default()
    }

    /// The lifetime of access tokens, in whole seconds (provider default: one hour).
    pub fn access_token_ttl(mut self, ttl: Duration) -> IdpSettings {
        self.access_token_ttl = Some(ttl);
        self
    }

    /// The lifetime of refresh tokens, in whole seconds (provider default: 14 days).
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> IdpSettings {
        self.refresh_token_ttl = Some(ttl);
        self
    }

    /// Whether redeeming a refresh token spends it and returns a new one (provider default: yes).
    pub fn rotate_refresh_token(mut self, rotate: bool) -> IdpSettings {
        self.rotate_refresh_token = Some(rotate);
        self
    }

    /// Signing keys left out of the published JWKS, by kid (`rsa-1` signs the ID tokens); none by default,
    /// and `&[]` publishes them all again.
    pub fn hidden_kids(mut self, kids: &[&str]) -> IdpSettings {
        self.hidden_kids = Some(kids.iter().map(|kid| (*kid).to_owned()).collect());
        self
    }

    /// `true`: a refresh token covers everything the user consented to, for every resource, as Entra's do.
    /// `false` (the provider default): it covers the scopes of its own authorization request, as in standard
    /// OAuth.
    pub fn refresh_tokens_cover_grant(mut self, cover: bool) -> IdpSettings {
        self.refresh_tokens_cover_grant = Some(cover);
        self
    }

    /// `true`: a refresh token also accepts `openid profile offline_access` in a refresh request, as Entra's
    /// do (MSAL libraries add them to every request). `false` (the provider default): standard OpenID Connect
    /// refuses a scope the refresh token does not cover, `offline_access` included.
    pub fn refresh_tokens_accept_reserved_scopes(mut self, accept: bool) -> IdpSettings {
        self.refresh_tokens_accept_reserved_scopes = Some(accept);
        self
    }

    /// `Some(claims)`: every token exchange (on-behalf-of) is refused with `interaction_required` and this claims
    /// request, as Entra refuses one when conditional access needs more of the user; `None` (the provider
    /// default): exchanges are answered.
    pub fn exchange_claims_challenge(mut self, claims: Option<&str>) -> IdpSettings {
        self.exchange_claims_challenge = Some(claims.map(str::to_owned));
        self
    }

    /// The request body, with the provider's names (`tests/idp/provider.mjs`, `SETTINGS`).
    fn to_json(&self) -> Value {
        set_keys([
            ("accessTokenTtl", self.access_token_ttl.map(|ttl| json!(whole_seconds("accessTokenTtl", ttl)))),
            ("refreshTokenTtl", self.refresh_token_ttl.map(|ttl| json!(whole_seconds("refreshTokenTtl", ttl)))),
            ("rotateRefreshToken", self.rotate_refresh_token.map(Value::Bool)),
            ("hiddenKids", self.hidden_kids.as_ref().map(|kids| json!(kids))),
            ("refreshTokensCoverGrant", self.refresh_tokens_cover_grant.map(Value::Bool)),
            ("refreshTokensAcceptReservedScopes", self.refresh_tokens_accept_reserved_scopes.map(Value::Bool)),
            ("exchangeClaimsChallenge", self.exchange_claims_challenge.as_ref().map(|claims| json!(claims))),
        ])
    }
}

/// A fault the provider injects into the next requests of one route (`POST /__test/faults`), until
/// [`TestIdp::reset`] or until it has hit [`times`](Fault::times) requests. It must do something: answer
/// with a [`status`](Fault::status), [`delay`](Fault::delay) or send a [`padded_body`](Fault::padded_body)
/// (the provider refuses a fault that does nothing).
///
/// ```no_run
/// # async fn example(idp: &msal_tests::TestIdp) {
/// use std::time::Duration;
/// use msal_tests::Fault;
///
/// idp.fault(Fault::on("POST /token").status(503).retry_after(Duration::from_secs(1)).times(2)).await;
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    route: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
    times: Option<u32>,
    delay: Option<Duration>,
    padded_body: Option<usize>,
}

impl Fault {
    /// A fault on `route`, named as the provider counts requests and as [`TestIdp::requests`] takes it:
    /// `"POST /token"`, `"GET /jwks"`. A plain string, as the provider's routes are an open set.
    pub fn on(route: impl Into<String>) -> Fault {
        Fault { route: route.into(), status: None, retry_after: None, times: None, delay: None, padded_body: None }
    }

    /// Answers with this status and an OAuth `temporarily_unavailable` error, instead of the provider.
    pub fn status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }

    /// The `Retry-After` of that answer, in whole seconds.
    pub fn retry_after(mut self, retry_after: Duration) -> Fault {
        self.retry_after = Some(retry_after);
        self
    }

    /// How many requests get the fault (provider default: one); later ones reach the provider as usual.
    pub fn times(mut self, requests: u32) -> Fault {
        self.times = Some(requests);
        self
    }

    /// Holds each request this long (whole milliseconds) first; without a status or a padded body, the request
    /// then goes on to the provider.
    pub fn delay(mut self, delay: Duration) -> Fault {
        self.delay = Some(delay);
        self
    }

    /// Answers with a JSON body padded with `bytes` bytes (status 200 unless [`status`](Fault::status) says
    /// otherwise), for the app's limit on response sizes.
    pub fn padded_body(mut self, bytes: usize) -> Fault {
        self.padded_body = Some(bytes);
        self
    }

    /// The request body, with the provider's names (`tests/idp/provider.mjs`, `FAULT`).
    fn to_json(&self) -> Value {
        set_keys([
            ("route", Some(json!(self.route))),
            ("status", self.status.map(|status| json!(status))),
            ("retryAfter", self.retry_after.map(|after| json!(whole_seconds("retryAfter", after)))),
            ("count", self.times.map(|times| json!(times))),
            ("delayMs", self.delay.map(|delay| json!(whole_millis("delayMs", delay)))),
            ("bodyBytes", self.padded_body.map(|bytes| json!(bytes))),
        ])
    }
}

/// A JSON object of the keys that are set: the provider keeps its value for a key that is absent.
fn set_keys<const N: usize>(keys: [(&str, Option<Value>); N]) -> Value {
    Value::Object(keys.into_iter().filter_map(|(key, value)| Some((key.to_owned(), value?))).collect())
}

// The provider counts in whole units; a fraction would be cut off without a word, so it stops the test.
fn whole_seconds(key: &str, duration: Duration) -> u64 {
    assert_eq!(duration.subsec_nanos(), 0, "{key} is whole seconds at the provider, not {duration:?}");
    duration.as_secs()
}

fn whole_millis(key: &str, duration: Duration) -> u128 {
    assert_eq!(duration.subsec_nanos() % 1_000_000, 0, "{key} is whole milliseconds at the provider, not {duration:?}");
    duration.as_millis()
}
