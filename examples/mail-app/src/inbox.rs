//! The inbox, three ways: `GET /mail` renders it on the server; `GET /mail/live` is a page whose script
//! reads `GET /mail/messages` with `fetch()`, and shows a consent link when that answers 401.

use axum::Json;
use axum::extract::State;
use maud::html;
use msal_runtime::{AccessToken, SignedInUser, requires_scopes};

use crate::layout::{Page, Section};
use crate::mail_api::{MailApi, Message};
use crate::problem::Problem;

/// `GET /mail`: the messages, read through the mail API with a `Mail.Read` token. The first visit sends
/// the user to the provider to consent to `Mail.Read`, and back here.
#[requires_scopes("Mail.Read")]
pub(crate) async fn inbox(token: AccessToken, user: SignedInUser, State(api): State<MailApi>) -> Result<Page, Problem> {
    let messages = api.inbox(&token).await.map_err(Problem::of(&user))?;
    let content = html! {
        p.toolbar { a.button #compose href="/mail/compose" { "Write a message" } }
        @if messages.is_empty() {
            p.muted #empty { "No messages." }
        }
        ul.messages #inbox {
            @for message in messages.iter().rev() {
                li {
                    div.subject { (message.subject) }
                    div.from { "from " (message.from) }
                    p { (message.body) }
                }
            }
        }
    };
    Ok(Page::new("Inbox", content).user(&user).section(Section::Inbox))
}

/// `GET /mail/messages`: the messages as JSON, for the live inbox's `fetch()`. Without consent to
/// `Mail.Read`, a `fetch()` gets 401 with a `consent_url` (a redirect to the provider would only break it).
#[requires_scopes("Mail.Read")]
pub(crate) async fn messages(
    token: AccessToken,
    user: SignedInUser,
    State(api): State<MailApi>,
) -> Result<Json<Vec<Message>>, Problem> {
    Ok(Json(api.inbox(&token).await.map_err(Problem::of(&user))?))
}

/// `GET /mail/live`: the inbox, read by the browser. Needs only a signed-in user: its script asks for the
/// messages and handles the consent itself.
pub(crate) async fn live(user: SignedInUser) -> Page {
    let content = html! {
        p.muted {
            "This page reads your mail from the browser with " code { "fetch()" } ". A script cannot follow "
            "a redirect to the sign-in page, so when the app needs your permission it answers 401 with a "
            "link, which the page shows."
        }
        div.notice #consent hidden {
            p { "Mail needs your permission to read your mail." }
            p { a.button #consent-link href="/" { "Give permission" } }
        }
        p.toolbar { button.primary #refresh type="button" { "Refresh" } span #status aria-live="polite" {} }
        ul.messages #messages {}
        script src="/assets/live.js" {}
    };
    Page::new("Live inbox", content).user(&user).section(Section::Live)
}
