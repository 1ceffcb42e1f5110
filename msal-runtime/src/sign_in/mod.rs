//! Signing in with the authorization code flow and PKCE: starting it, the pending sign-ins, the callback that
//! claims each one, the one redemption of its code, how it ended, and signing out.

pub(crate) mod callback;
pub(crate) mod flow;
pub(crate) mod outcome;
pub(crate) mod pending;
pub(crate) mod pkce;
pub(crate) mod redeem;
pub(crate) mod return_url;
pub(crate) mod sign_out;
pub(crate) mod start;
