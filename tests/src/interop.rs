//! The real MSAL libraries on a token cache: MSAL Python (`tests/interop/python/msal_cache.py`, in the virtual
//! environment `tests/interop/.venv`) and msal-node (`tests/interop/node/msal_cache.mjs`), each run as a child
//! process that reads one JSON request and prints one JSON answer. Their HTTP never reaches the network: it is
//! answered from the request ("offline") or bridged to the test provider (see the scripts' headers).

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// An MSAL library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// MSAL Python (`msal`, pinned in `tests/interop/python/requirements.txt`).
    Python,
    /// msal-node (`@azure/msal-node`, pinned in `tests/interop/node/package.json`).
    Node,
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// What a library did: the accounts it listed, the result of its call, the requests its HTTP client saw, and
/// its cache afterwards (its own serializer's JSON).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The accounts the library lists (`get_accounts`, `getAllAccounts`), as `home_account_id`,
    /// `environment`, `realm`, `username`.
    pub accounts: Vec<Value>,
    /// The access token it returned, if any.
    pub access_token: Option<String>,
    /// Whether that token came from the cache (MSAL Python's `token_source`, msal-node's `fromCache`).
    pub from_cache: bool,
    /// The answer without the cache, for failure messages: accounts, result or error, requests.
    pub raw: Value,
    /// `"GET <url>"`, `"POST <url>"`: every request the library's HTTP client was asked to make.
    pub requests: Vec<String>,
    /// The library's cache, serialized.
    pub cache: String,
}

impl Outcome {
    /// The token requests (POSTs) it made.
    pub fn token_requests(&self) -> Vec<&String> {
        self.requests.iter().filter(|request| request.starts_with("POST ")).collect()
    }
}

impl Library {
    /// Both libraries.
    pub const ALL: [Library; 2] = [Library::Python, Library::Node];

    /// Runs the library's script on `request` (see the scripts' headers for its fields).
    pub async fn run(self, request: &Value) -> Outcome {
        let dir = interop_dir();
        let mut command = match self {
            Library::Python => {
                let python = dir.join(".venv/bin/python");
                assert!(
                    python.is_file(),
                    "MSAL Python is not installed: run `python3 -m venv tests/interop/.venv && tests/interop/.venv/bin/pip \
                     install -r tests/interop/python/requirements.txt` (scripts/test does)"
                );
                let mut command = Command::new(python);
                command.arg(dir.join("python/msal_cache.py"));
                command
            }
            Library::Node => {
                assert!(
                    dir.join("node/node_modules/@azure/msal-node").is_dir(),
                    "msal-node is not installed: run `npm ci --prefix tests/interop/node` (scripts/test does)"
                );
                let mut command = Command::new("node");
                command.arg(dir.join("node/msal_cache.mjs"));
                command
            }
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {self:?}: {error}"));
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(request.to_string().as_bytes()).await.unwrap();
        drop(stdin);
        let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{self:?} did not answer within 60 s"))
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{self:?} failed ({}): {stderr}", output.status);
        let mut raw: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!("{self:?} printed {:?}; stderr: {stderr}", String::from_utf8_lossy(&output.stdout))
        });
        let result = &raw["result"];
        let access_token = result["access_token"].as_str().map(str::to_owned);
        let from_cache = match self {
            Library::Python => result["token_source"] == "cache",
            Library::Node => result["from_cache"] == true,
        };
        Outcome {
            accounts: raw["accounts"].as_array().cloned().unwrap_or_default(),
            access_token,
            from_cache,
            requests: raw["requests"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
            cache: raw.as_object_mut().unwrap().remove("cache").unwrap().as_str().unwrap().to_owned(),
            raw,
        }
    }
}

/// The HTTP of a library that must not need the network: `get` answers metadata GETs (URL → JSON), `post`
/// token requests (usually none: every other request fails and is recorded).
pub fn offline(get: Value, post: Value) -> Value {
    json!({ "mode": "offline", "get": get, "post": post })
}

/// The HTTP of a library whose authority is `public` (https, as MSAL libraries require), bridged to the test
/// provider at `real` (plain http on loopback).
pub fn bridge(public: &str, real: &str) -> Value {
    json!({ "mode": "bridge", "public": public, "real": real })
}

/// An unsigned JWT with these claims: MSAL libraries read ID token claims without validating them.
pub fn unsigned_jwt(claims: &Value) -> String {
    use base64::Engine;
    let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.", encode(&json!({ "alg": "none", "typ": "JWT" })), encode(claims))
}

/// Entra's `client_info`: base64url JSON of `uid` and `utid`.
pub fn client_info(uid: &str, utid: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({ "uid": uid, "utid": utid }).to_string())
}
