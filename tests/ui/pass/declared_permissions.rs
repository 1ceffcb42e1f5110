use axum::{Router, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

#[requires_scopes("Mail.Read", "user.read", permissions = "../permissions.toml")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

#[requires_scopes("api://contoso/.default", permissions = "../permissions.toml")]
async fn orders(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail", get(inbox)).route("/orders", get(orders)).with_state(msal)
}

fn main() {
    let _ = app;
}
