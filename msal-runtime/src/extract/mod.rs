//! axum extractors of a signed-in app: who is signed in, an access token for a scope set, and what
//! "interaction required" becomes for each kind of request. They reach the runtime through the router's
//! state (`Msal: FromRef<S>`), so a router that cannot reach it does not compile.

pub(crate) mod access_token_for;
pub(crate) mod challenges;
pub(crate) mod cross_origin;
pub(crate) mod interaction;
pub(crate) mod rejection;
pub(crate) mod request_kind;
pub(crate) mod scoped_token;
pub(crate) mod signed_in_user;
