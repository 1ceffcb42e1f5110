use msal_runtime::{AccessToken, requires_scopes};

// Routed, yet only the macro's error: the handler is still emitted as an `async fn`.
#[requires_scopes("Mail.Read")]
fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn app(msal: msal_runtime::Msal) -> axum::Router {
    axum::Router::new().route("/mail", axum::routing::get(inbox)).with_state(msal)
}

fn main() {
    let _ = app;
}
