//! `GET /contacts`: the user's contacts. The app calls the mail API with the user's token as for the inbox;
//! the mail API exchanges that token for one of the contacts API (on-behalf-of) and reads them there. When the
//! provider wants more of the user for that exchange (a claims challenge), the mail API passes it back, and
//! the `answer_challenges` middleware sends the user to the provider with it, then back here.

use axum::extract::State;
use maud::html;
use msal_runtime::{AccessToken, SignedInUser, requires_scopes};

use crate::layout::{Page, Section};
use crate::mail_api::MailApi;
use crate::problem::Problem;

#[requires_scopes("Mail.Read")]
pub(crate) async fn contacts(
    token: AccessToken,
    user: SignedInUser,
    State(api): State<MailApi>,
) -> Result<Page, Problem> {
    let contacts = api.contacts(&token).await.map_err(Problem::of(&user))?;
    let content = html! {
        p.muted {
            "The mail API reads these from the contacts API on your behalf: it trades the token this app "
            "gave it for one of the contacts API (on-behalf-of)."
        }
        @if contacts.is_empty() {
            p.muted #no-contacts { "No contacts." }
        }
        ul.messages #contacts {
            @for contact in &contacts {
                li { (contact) }
            }
        }
    };
    Ok(Page::new("Contacts", content).user(&user).section(Section::Contacts))
}
