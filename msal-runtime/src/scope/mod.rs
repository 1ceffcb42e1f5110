//! Scopes: their syntax and sets (RFC 6749 §3.3), the scopes a handler needs as a type, and the app-wide
//! list of every `#[requires_scopes]` handler's scopes, collected at link time.

pub(crate) mod registry;
pub(crate) mod required;
pub(crate) mod set;
