use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken) -> impl IntoResponse {
    (StatusCode::OK, format!("{:?}", token.expires_on()))
}

fn main() {
    let _app: Router = Router::new().route("/mail", get(inbox));
}
