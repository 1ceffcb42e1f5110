use msal_runtime::{AccessToken, requires_scopes};

// Three mistakes, three errors; and the handler is still emitted, so the router that uses it compiles.
#[requires_scopes("Mail Read", "profile", "Mail.Send", "MAIL.SEND")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn app(msal: msal_runtime::Msal) -> axum::Router {
    axum::Router::new().route("/mail", axum::routing::get(inbox)).with_state(msal)
}

fn main() {
    let _ = app;
}
