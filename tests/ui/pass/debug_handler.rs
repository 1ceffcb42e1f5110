use axum::extract::{FromRef, State};
use axum::{Router, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

// The runtime's extractors reach `Msal` through the app's state.
#[derive(Clone)]
struct AppState {
    msal: Msal,
    name: &'static str,
}

impl FromRef<AppState> for Msal {
    fn from_ref(state: &AppState) -> Msal {
        state.msal.clone()
    }
}

#[requires_scopes("Mail.Read")]
#[axum::debug_handler]
async fn inbox(token: AccessToken, State(state): State<AppState>) -> String {
    format!("{} {:?}", state.name, token.expires_on())
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail", get(inbox)).with_state(AppState { msal, name: "inbox" })
}

fn main() {
    let _ = app;
}
