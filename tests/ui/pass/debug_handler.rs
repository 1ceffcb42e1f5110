use axum::{Router, extract::State, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
#[axum::debug_handler]
async fn inbox(token: AccessToken, State(name): State<String>) -> String {
    format!("{name} {:?}", token.expires_on())
}

fn main() {
    let _app: Router = Router::new().route("/mail", get(inbox)).with_state(String::from("inbox"));
}
