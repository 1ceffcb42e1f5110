//! The per-user token cache: one partition per user in MSAL's shared schema, the rules that read and write it,
//! and the stores that keep it.

pub(crate) mod hot;
pub(crate) mod memory;
pub(crate) mod packed;
pub(crate) mod partition;
pub(crate) mod schema;
pub(crate) mod store;
#[cfg(test)]
mod store_suite;
pub(crate) mod tiered;
pub(crate) mod token_cache;
pub(crate) mod without_user;
