//! axum extractors of a signed-in app: who is signed in, an access token for a scope set, and what
//! "interaction required" becomes for each kind of request.

mod access_token_for;
mod interaction;
mod scoped_token;
mod signed_in_user;

pub use access_token_for::{AccessTokenFor, TokenRejection, TokenRejectionReason};
pub use scoped_token::ScopedToken;
pub use signed_in_user::{SignInRequired, SignedInUser};

use http::request::Parts;

use crate::msal::Msal;

/// The [`Msal`] installed by [`Msal::layer`], or `None` when the layer is missing.
fn msal(parts: &Parts) -> Option<&Msal> {
    parts.extensions.get::<Msal>()
}
