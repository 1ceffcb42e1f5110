//! Web APIs: validating the bearer access tokens that callers send, and the [`Bearer`] extractor.

mod bearer;
mod protected_api;

pub use bearer::{Bearer, BearerRejection};
pub use protected_api::{ApiCaller, BearerError, ProtectedApi};
