use msal_runtime::{AccessToken, requires_scopes};

// Three mistakes, three errors; and the handler is still emitted, so `main` compiles.
#[requires_scopes("Mail Read", "profile", "Mail.Send", "MAIL.SEND")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn main() {
    let _app: axum::Router = axum::Router::new().route("/mail", axum::routing::get(inbox));
}
