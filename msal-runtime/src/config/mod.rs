//! Settings: environment loading, a builder, and secure defaults, each documented where it is set.
//!
//! Every setting is validated once, at start-up; an error names the environment variable (or builder
//! method) and says what is wrong, so that a misconfigured app stops before it serves a request.

pub(crate) mod builder;
pub(crate) mod environment;
pub(crate) mod error;
pub(crate) mod routes;
pub(crate) mod settings;
