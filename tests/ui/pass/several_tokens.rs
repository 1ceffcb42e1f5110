use axum::extract::{FromRef, State};
use axum::{Router, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

// The runtime's extractors reach `Msal` through the app's state.
#[derive(Clone)]
struct AppState {
    msal: Msal,
    title: &'static str,
}

impl FromRef<AppState> for Msal {
    fn from_ref(state: &AppState) -> Msal {
        state.msal.clone()
    }
}

// One token per resource, each with its own scopes.
#[requires_scopes]
async fn dashboard(
    #[scopes("User.Read", "Mail.Read")] graph: AccessToken,
    State(AppState { title, .. }): State<AppState>,
    #[scopes("api://contoso/Orders.Read")] orders: AccessToken,
) -> String {
    format!("{title} {:?} {:?}", graph.expires_on(), orders.expires_on())
}

// The unannotated token takes the attribute's scopes.
#[requires_scopes("Mail.Read")]
async fn both(mail: AccessToken, #[scopes("api://contoso/.default")] orders: AccessToken
) -> String {
    format!("{:?} {:?}", mail.expires_on(), orders.expires_on())
}

fn app(msal: Msal) -> Router {
    Router::new().route("/", get(dashboard)).route("/both", get(both)).with_state(AppState { msal, title: "Dashboard" })
}

fn main() {
    let _ = app;
}
