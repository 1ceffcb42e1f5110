use axum::{Router, routing::get};
use msal_runtime::{Msal, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn mutable(mut token: msal_runtime::AccessToken) -> String {
    token = token.clone();
    format!("{:?}", token.expires_on())
}

#[requires_scopes("Mail.Read")]
async fn ignored(_: ::msal_runtime::AccessToken) -> &'static str {
    "ok"
}

mod nested {
    use msal_runtime::{AccessToken, Msal, requires_scopes};

    #[requires_scopes("Mail.Read")]
    pub(crate) async fn inbox(token: AccessToken) -> String {
        format!("{:?}", token.expires_on())
    }
}

fn app(msal: Msal) -> Router {
    Router::new().route("/a", get(mutable)).route("/b", get(ignored)).route("/c", get(nested::inbox)).with_state(msal)
}

fn main() {
    let _ = app;
    // The app-wide list holds every annotated handler.
    let names: Vec<&str> = msal_runtime::scoped_handlers().iter().map(|handler| handler.name()).collect();
    assert_eq!(names.len(), 3);
}
