// A `#[requires_scopes]` handler in a router whose state has no way to the runtime: the build fails.
use axum::{Router, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn app() -> Router {
    Router::new().route("/mail", get(inbox))
}

fn main() {
    let _ = app;
}
