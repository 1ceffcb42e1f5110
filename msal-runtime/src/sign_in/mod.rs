//! Signing in with the authorization code flow and PKCE: starting it, the pending sign-ins, the callback
//! that redeems each code exactly once, and signing out.

pub(crate) mod callback;
pub(crate) mod pending;
pub(crate) mod pkce;
pub(crate) mod return_url;
pub(crate) mod sign_out;
pub(crate) mod start;

pub use return_url::{ReturnUrl, ReturnUrlError};
