//! `GET /`: the start page, signed in or not; `GET /me`: who is signed in, as JSON.

use axum::Json;
use maud::html;
use msal_runtime::{SIGN_IN_PATH, SignedInUser};
use serde::Serialize;

use crate::layout::{Page, display_name};

/// `GET /`: what the app does and where to go; a sign-in button when nobody is signed in.
pub(crate) async fn home(user: Option<SignedInUser>) -> Page {
    let content = match &user {
        Some(user) => html! {
            p { "Welcome back, " (display_name(user)) "." }
            p.toolbar {
                a.button #open-inbox href="/mail" { "Open your inbox" }
                a href="/mail/compose" { "Write a message" }
                a href="/mail/live" { "Live inbox" }
            }
            p.muted {
                "The first visit to the inbox asks you to let the app read your mail; the first message you "
                "write asks you to let it send mail. Nothing else is asked for at sign-in."
            }
        },
        None => html! {
            p { "Read and send mail through the mail API, signed in with your organization's account." }
            p { a.button #sign-in-start href={ (SIGN_IN_PATH) "?return_url=/" } { "Sign in" } }
        },
    };
    let title = if user.is_some() { "Your mail" } else { "Welcome" };
    Page::new(title, content).maybe_user(user.as_ref())
}

/// `GET /me`: who is signed in, as JSON; 401 when nobody is.
pub(crate) async fn me(user: SignedInUser) -> Json<Me> {
    Json(Me {
        name: user.name().map(str::to_owned),
        sub: user.subject().to_owned(),
        home_account_id: user.home_account_id().as_str().to_owned(),
    })
}

#[derive(Serialize)]
pub(crate) struct Me {
    name: Option<String>,
    sub: String,
    home_account_id: String,
}
