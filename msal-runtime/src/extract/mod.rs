//! axum extractors.

mod signed_in_user;

pub use signed_in_user::{SignInRequired, SignedInUser};

use http::request::Parts;

use crate::msal::Msal;

/// The [`Msal`] installed by [`Msal::layer`], or `None` when the layer is missing.
fn msal(parts: &Parts) -> Option<&Msal> {
    parts.extensions.get::<Msal>()
}
