//! Silent token acquisition (MSAL's `AcquireTokenSilent`): the cache hit, the refresh with coalescing and
//! throttling, and what can stop it.

pub(crate) mod access_token;
pub(crate) mod error;
pub(crate) mod in_flight;
pub(crate) mod lease;
pub(crate) mod refresh;
pub(crate) mod silent;
pub(crate) mod throttle;
pub(crate) mod without_user;
