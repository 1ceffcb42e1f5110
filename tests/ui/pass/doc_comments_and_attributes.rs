#![deny(missing_docs, unused_imports)]
//! A crate whose handler keeps its documentation and attributes.

use axum::{Router, routing::get};
use msal_runtime::{AccessToken, Msal, requires_scopes};

/// Lists the inbox.
///
/// Needs Mail.Read.
#[requires_scopes("Mail.Read")]
#[allow(clippy::unused_async)]
#[must_use]
pub async fn inbox(#[allow(unused_variables)] token: AccessToken) -> &'static str {
    "inbox"
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail", get(inbox)).with_state(msal)
}

fn main() {
    let _ = app;
}
