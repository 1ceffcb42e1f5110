//! Reading what the provider issued and what the app cached, as the tests look at them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The claims of a JWT, unverified (the tests only read what the provider issued).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The entries of one kind (`"AccessToken"`, `"RefreshToken"`, `"IdToken"`, …) in a cache partition as MSAL
/// JSON ([`TestApp::cached_tokens`](crate::TestApp::cached_tokens)); none when the kind is absent.
pub fn cache_entries(tokens: &Value, kind: &str) -> Vec<Value> {
    tokens[kind].as_object().map(|entries| entries.values().cloned().collect()).unwrap_or_default()
}
