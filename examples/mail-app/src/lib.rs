//! The example web app: users sign in, read their mail and send mail through the mail API on their behalf.
//!
//! Its routes are a contract that scripts and tests drive (README.md): `GET /`, `GET /me`,
//! `GET /mail` (needs `Mail.Read`), `GET /mail/compose` and `POST /mail/send` (need `Mail.Send`, which users
//! are not asked for at sign-in), and the runtime's `/auth/signin`, callback and `/auth/signout`.

use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use html_escape::{encode_double_quoted_attribute, encode_text};
use msal_runtime::error::DownstreamError;
use msal_runtime::{AccessToken, Msal, SignedInUser, answer_challenges, requires_scopes};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone)]
struct AppState {
    msal: Msal,
    http: reqwest::Client,
    mail_api: Url,
}

/// The extractors of the runtime find it in the app's state.
impl FromRef<AppState> for Msal {
    fn from_ref(state: &AppState) -> Msal {
        state.msal.clone()
    }
}

/// The app's router, with the runtime's routes installed. `mail_api` is the mail API's base URL.
pub fn router(msal: &Msal, mut mail_api: Url) -> Router {
    // A base without a trailing slash would lose its last segment in `join`.
    if !mail_api.path().ends_with('/') {
        let path = format!("{}/", mail_api.path());
        mail_api.set_path(&path);
    }
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a default HTTP client");
    Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .route("/mail", get(inbox))
        .route("/mail/compose", get(compose))
        .route("/mail/send", post(send))
        // An API's claims challenge or missing scope, returned by a handler, sends the user to the provider.
        .layer(axum::middleware::from_fn_with_state(msal.clone(), answer_challenges))
        .merge(msal.routes())
        .with_state(AppState { msal: msal.clone(), http, mail_api })
}

/// `GET /`: the signed-in user's name, or a sign-in link.
async fn home(user: Option<SignedInUser>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<p>Signed in as <strong id=\"user\">{}</strong></p>\
             <p><a href=\"/mail\">Inbox</a> · <a href=\"/mail/compose\">Write a message</a></p>\
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

/// A message as the mail API lists it.
#[derive(Deserialize)]
struct InboxMessage {
    from: String,
    subject: String,
    body: String,
}

/// `GET /mail`: the inbox, read through the mail API with a `Mail.Read` token.
#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken, State(app): State<AppState>) -> Result<Html<String>, DownstreamError> {
    let request = app.http.get(app.mail_api.join("messages").expect("a relative path"));
    let messages: Vec<InboxMessage> = token.call(request).await?.error_for_status()?.json().await?;
    let mut body = String::from("<p><a href=\"/mail/compose\">Write a message</a></p><ul id=\"inbox\">");
    for message in &messages {
        body.push_str(&format!(
            "<li><strong>{}</strong> from {}<p>{}</p></li>",
            encode_text(&message.subject),
            encode_text(&message.from),
            encode_text(&message.body)
        ));
    }
    body.push_str("</ul>");
    if messages.is_empty() {
        body.push_str("<p id=\"empty\">No messages.</p>");
    }
    Ok(Html(page("Inbox", &body)))
}

/// `GET /mail/compose`: the form; asks for `Mail.Send` consent the first time.
#[requires_scopes("Mail.Send")]
async fn compose() -> Html<String> {
    let form = format!(
        "<form method=\"post\" action=\"{}\">\
         <label>To <input name=\"to\" required></label>\
         <label>Subject <input name=\"subject\"></label>\
         <label>Message <textarea name=\"body\"></textarea></label>\
         <button>Send</button></form>",
        encode_double_quoted_attribute("/mail/send")
    );
    Html(page("Write a message", &form))
}

#[derive(Debug, Deserialize, Serialize)]
struct Mail {
    to: String,
    subject: String,
    body: String,
}

/// `POST /mail/send`: sends through the mail API with a `Mail.Send` token.
#[requires_scopes("Mail.Send")]
async fn send(
    token: AccessToken,
    State(app): State<AppState>,
    Form(mail): Form<Mail>,
) -> Result<Redirect, DownstreamError> {
    let request = app.http.post(app.mail_api.join("messages").expect("a relative path")).json(&mail);
    token.call(request).await?.error_for_status()?;
    Ok(Redirect::to("/mail"))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1>{body}</body></html>\n",
        encode_text(title),
        encode_text(title)
    )
}
