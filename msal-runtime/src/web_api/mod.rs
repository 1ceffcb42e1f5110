//! Web APIs: validating the bearer access tokens that callers send (RFC 6750, RFC 9068), and the [`Bearer`]
//! extractor, with errors of their own.

pub(crate) mod bearer;
pub(crate) mod claims_challenge;
pub(crate) mod error;
pub(crate) mod protected_api;
