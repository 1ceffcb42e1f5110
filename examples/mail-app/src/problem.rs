//! What a page shows when the mail API could not give it an answer: the app's own page, in its layout.
//! A challenge (the API wants the user to sign in again, or to consent to more) is left to the runtime's
//! answer, which the `answer_challenges` middleware turns into a trip to the identity provider.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use msal_runtime::SignedInUser;
use msal_runtime::error::DownstreamError;

use crate::layout::Page;

/// A failed call to the mail API, with the user to show in the page's header.
pub(crate) struct Problem {
    error: DownstreamError,
    user: SignedInUser,
}

impl Problem {
    /// For `.map_err(Problem::of(&user))`.
    pub(crate) fn of(user: &SignedInUser) -> impl FnOnce(DownstreamError) -> Problem + '_ {
        move |error| Problem { error, user: user.clone() }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let (status, message) = match &self.error {
            DownstreamError::ClaimsChallenge(_) | DownstreamError::InsufficientScope(_) => {
                return self.error.into_response();
            }
            DownstreamError::Http(error) if error.status().is_some_and(|status| status.is_client_error()) => (
                StatusCode::BAD_REQUEST,
                "The mail service did not accept this request. Check the message and try again.",
            ),
            _ => {
                (StatusCode::BAD_GATEWAY, "The mail service cannot be reached right now. Please try again in a moment.")
            }
        };
        tracing::warn!(error = %self.error, "a call to the mail API failed");
        let content = html! {
            p.notice.problem #problem { (message) }
            p { a href="/" { "Back to the start page" } }
        };
        Page::new("Something went wrong", content).user(&self.user).status(status).into_response()
    }
}
