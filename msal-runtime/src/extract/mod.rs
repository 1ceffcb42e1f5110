//! axum extractors.

mod access_token_for;
mod bearer;
mod scoped_token;
mod signed_in_user;

pub use access_token_for::{AccessTokenFor, RequiredScopes, TokenRejection, TokenRejectionReason};
pub use bearer::{Bearer, BearerRejection};
pub use scoped_token::ScopedToken;
pub use signed_in_user::{SignInRequired, SignedInUser};

use http::request::Parts;

use crate::msal::Msal;

/// The [`Msal`] installed by [`Msal::layer`], or `None` when the layer is missing.
fn msal(parts: &Parts) -> Option<&Msal> {
    parts.extensions.get::<Msal>()
}
