//! The example web app: sign-in with msal-runtime and pages that show the signed-in user.
//!
//! Its routes are a contract that scripts and tests drive (see shared/DESIGN.md): `GET /`, `GET /me`, and the
//! runtime's `/auth/signin`, callback and `/auth/signout`.

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use html_escape::encode_text;
use msal_runtime::{Msal, SignedInUser};
use serde::Serialize;

/// The app's router, with the runtime's routes and layer installed.
pub fn router(msal: &Msal) -> Router {
    Router::new().route("/", get(home)).route("/me", get(me)).merge(msal.routes()).layer(msal.layer())
}

/// `GET /`: the signed-in user's name, or a sign-in link.
async fn home(user: Option<SignedInUser>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<p>Signed in as <strong id=\"user\">{}</strong></p>\
             <form method=\"post\" action=\"/auth/signout\"><button>Sign out</button></form>",
            encode_text(user.name().unwrap_or(user.username())),
        ),
        None => "<p><a id=\"sign-in\" href=\"/auth/signin?return_url=/\">Sign in</a></p>".to_owned(),
    };
    Html(page("Mail", &body))
}

/// `GET /me`: who is signed in, as JSON; 401 when nobody is.
async fn me(user: SignedInUser) -> Json<Me> {
    Json(Me {
        name: user.name().map(str::to_owned),
        sub: user.subject().to_owned(),
        home_account_id: user.home_account_id().as_str().to_owned(),
    })
}

#[derive(Serialize)]
struct Me {
    name: Option<String>,
    sub: String,
    home_account_id: String,
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>Mail</h1>{body}</body></html>\n",
        encode_text(title)
    )
}
