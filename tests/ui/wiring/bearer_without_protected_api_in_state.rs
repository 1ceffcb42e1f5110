// A web API route whose router state cannot give `Bearer` the token validator: the build fails.
use axum::{Router, routing::get};
use msal_runtime::{Bearer, RequiredScopes};

struct MailRead;
impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

async fn list(caller: Bearer<MailRead>) -> String {
    caller.subject().to_owned()
}

fn api() -> Router {
    Router::new().route("/messages", get(list))
}

fn main() {
    let _ = api;
}
