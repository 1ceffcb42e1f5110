use axum::{Router, routing::get};
use msal_runtime::{Msal, requires_scopes};

// No token is used, yet the page requires Mail.Send: consent happens before the body runs.
#[requires_scopes("Mail.Send")]
async fn compose() -> &'static str {
    "<form>…</form>"
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail/compose", get(compose)).with_state(msal)
}

fn main() {
    let _ = app;
}
