use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken) -> impl IntoResponse {
    (StatusCode::OK, format!("{:?}", token.expires_on()))
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail", get(inbox)).with_state(msal)
}

fn main() {
    let _ = app;
}
