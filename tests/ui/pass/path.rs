use axum::{Router, extract::Path, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn message(Path((folder, id)): Path<(String, u64)>, token: AccessToken) -> String {
    format!("{folder}/{id} {:?}", token.expires_on())
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail/{folder}/{id}", get(message)).with_state(msal)
}

fn main() {
    let _ = app;
}
