//! Silent token acquisition (MSAL's `AcquireTokenSilent`): the cache hit, the refresh with coalescing and
//! throttling, and what can stop it.

pub(crate) mod access_token;
mod error;
mod refresh;
mod silent;
mod throttle;

pub use access_token::AccessToken;
pub use error::{AcquireError, InteractionReason, InteractionRequired, InvalidResponse};
pub(crate) use silent::Acquisition;
