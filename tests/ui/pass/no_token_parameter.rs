use axum::{Router, routing::get};
use msal_runtime::requires_scopes;

// No token is used, yet the page requires Mail.Send: consent happens before the body runs.
#[requires_scopes("Mail.Send")]
async fn compose() -> &'static str {
    "<form>…</form>"
}

fn main() {
    let _app: Router = Router::new().route("/mail/compose", get(compose));
}
