use axum::{Router, extract::Path, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn message(Path((folder, id)): Path<(String, u64)>, token: AccessToken) -> String {
    format!("{folder}/{id} {:?}", token.expires_on())
}

fn main() {
    let _app: Router = Router::new().route("/mail/{folder}/{id}", get(message));
}
