use axum::{Router, extract::State, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn inbox<S>(token: AccessToken, State(state): State<S>) -> String
where
    S: Clone + Send + Sync + std::fmt::Debug + 'static,
{
    format!("{state:?} {:?}", token.expires_on())
}

fn router<S: Clone + Send + Sync + std::fmt::Debug + 'static>(state: S) -> Router {
    Router::new().route("/mail", get(inbox::<S>)).with_state(state)
}

fn main() {
    let _app = router(42u8);
}
