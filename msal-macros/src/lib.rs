//! `#[requires_scopes]` for axum handlers: parse, validate, expand. The work happens in `msal-runtime`.
