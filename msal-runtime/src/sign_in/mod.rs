//! Signing in with the authorization code flow and PKCE: starting it, the sign-in kept in the browser's sealed
//! cookie until it comes back, the callback, the one redemption of its code, how it ended, and signing out.

pub(crate) mod callback;
pub(crate) mod flow;
pub(crate) mod once;
pub(crate) mod once_shared;
pub(crate) mod outcome;
pub(crate) mod pkce;
pub(crate) mod redeem;
pub(crate) mod return_url;
pub(crate) mod sign_out;
pub(crate) mod start;
pub(crate) mod transaction;
