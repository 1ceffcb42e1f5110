use axum::{Router, extract::State, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken, State(state): State<AppState>) -> String {
    format!("{} {:?}", state.greeting, token.expires_on())
}

fn main() {
    let _app: Router = Router::new().route("/mail", get(inbox)).with_state(AppState { greeting: "hi" });
}
