// The router's state cannot give the extractor the runtime (no `Msal: FromRef<S>`): the build fails where
// the handler is routed, instead of a 500 at the first request.
use axum::{Router, routing::get};
use msal_runtime::SignedInUser;

#[derive(Clone)]
struct AppState;

async fn me(user: SignedInUser) -> String {
    user.subject().to_owned()
}

fn app() -> Router {
    Router::new().route("/me", get(me)).with_state(AppState)
}

fn main() {
    let _ = app;
}
