//! The example web app: users sign in, read their mail and send mail through the mail API on their behalf.
//!
//! Its routes are a contract that scripts and tests drive (README.md): `GET /`, `GET /me`,
//! `GET /mail` (needs `Mail.Read`), `GET /mail/compose` and `POST /mail/send` (need `Mail.Send`, which users
//! are not asked for at sign-in), `GET /mail/live` (the inbox read with `fetch()` from `GET /mail/messages`),
//! `GET /contacts` (what the mail API reads from the contacts API on the user's behalf), and the runtime's `/auth/signin`, callback and `/auth/signout`.
//!
//! One file per page: `home.rs`, `inbox.rs`, `compose.rs`, `contacts.rs`; the frame around them in `layout.rs`; the mail
//! API's client in `mail_api.rs`; what a page shows when the API fails in `problem.rs`.

use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use msal_runtime::{Msal, answer_challenges};
use url::Url;

mod compose;
mod contacts;
mod home;
mod inbox;
mod layout;
mod mail_api;
mod problem;

use mail_api::MailApi;

/// What the handlers reach through axum's `State`: the runtime, for the extractors, and the mail API.
#[derive(Debug, Clone)]
struct AppState {
    msal: Msal,
    mail_api: MailApi,
}

impl FromRef<AppState> for Msal {
    fn from_ref(state: &AppState) -> Msal {
        state.msal.clone()
    }
}

impl FromRef<AppState> for MailApi {
    fn from_ref(state: &AppState) -> MailApi {
        state.mail_api.clone()
    }
}

/// The app's router, with the runtime's routes installed. `mail_api` is the mail API's base URL.
pub fn router(msal: &Msal, mail_api: Url) -> Router {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a default HTTP client");
    Router::new()
        .route("/", get(home::home))
        .route("/me", get(home::me))
        .route("/mail", get(inbox::inbox))
        .route("/mail/live", get(inbox::live))
        .route("/mail/messages", get(inbox::messages))
        .route("/mail/compose", get(compose::compose))
        .route("/mail/send", post(compose::send))
        .route("/contacts", get(contacts::contacts))
        // An API's claims challenge or missing scope, returned by a handler, sends the user to the provider
        // (or answers a `fetch()` with 401 and the URL to go to).
        .layer(axum::middleware::from_fn_with_state(msal.clone(), answer_challenges))
        .route("/assets/style.css", get(layout::stylesheet))
        .route("/assets/live.js", get(layout::live_script))
        .merge(msal.routes())
        .with_state(AppState { msal: msal.clone(), mail_api: MailApi::new(http, &mail_api) })
}
