use axum::extract::{FromRef, State};
use axum::{Router, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn inbox<S>(token: AccessToken, State(state): State<S>) -> String
where
    S: Clone + Send + Sync + std::fmt::Debug + 'static,
{
    format!("{state:?} {:?}", token.expires_on())
}

// Any state the runtime can be reached from.
fn router<S>(state: S) -> Router
where
    S: Clone + Send + Sync + std::fmt::Debug + 'static,
    Msal: FromRef<S>,
{
    Router::new().route("/mail", get(inbox::<S>)).with_state(state)
}

fn main() {
    let _ = router::<Msal>;
}
