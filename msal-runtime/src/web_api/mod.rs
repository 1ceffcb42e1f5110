//! Web APIs: validating the bearer access tokens that callers send (RFC 6750, RFC 9068, Entra v1.0 and v2.0),
//! and the extractors: [`Bearer`] for a user's callers, [`AppCaller`] for apps calling as themselves,
//! [`UserOrApp`] for either; with errors of their own.

pub(crate) mod app_caller;
pub(crate) mod bearer;
pub(crate) mod claims_challenge;
pub(crate) mod error;
pub(crate) mod on_behalf_of;
pub(crate) mod protected_api;
