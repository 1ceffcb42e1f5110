//! Writing a message: `GET /mail/compose` shows the form, `POST /mail/send` sends it. Both need `Mail.Send`,
//! which users are not asked for at sign-in: the first visit sends them to consent (incremental consent),
//! and a form posted without it comes back to the form after consenting.

use axum::Form;
use axum::extract::State;
use axum::response::Redirect;
use maud::html;
use msal_runtime::{AccessToken, SignedInUser, requires_scopes};

use crate::layout::{Page, Section};
use crate::mail_api::{MailApi, NewMessage};
use crate::problem::Problem;

/// `GET /mail/compose`: the form, addressed to the user by default (the mail API delivers by user name).
#[requires_scopes("Mail.Send")]
pub(crate) async fn compose(user: SignedInUser) -> Page {
    let content = html! {
        form.stacked #compose-form method="post" action="/mail/send" {
            label { "To" input #to name="to" required value=(user.subject()); }
            label { "Subject" input #subject name="subject" maxlength="256"; }
            label { "Message" textarea #body name="body" {} }
            p { button.primary #send type="submit" { "Send" } }
        }
    };
    Page::new("Write a message", content).user(&user).section(Section::Compose)
}

/// `POST /mail/send`: sends through the mail API with a `Mail.Send` token, then shows the inbox.
#[requires_scopes("Mail.Send")]
pub(crate) async fn send(
    token: AccessToken,
    user: SignedInUser,
    State(api): State<MailApi>,
    Form(message): Form<NewMessage>,
) -> Result<Redirect, Problem> {
    api.send(&token, &message).await.map_err(Problem::of(&user))?;
    Ok(Redirect::to("/mail"))
}
