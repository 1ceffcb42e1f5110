//! The per-user token cache: one partition per user in MSAL's shared schema, the rules that read and write it,
//! and the stores that keep it.

mod hot;
mod memory;
pub(crate) mod partition;
mod schema;
mod store;
#[cfg(test)]
mod store_suite;
mod token_cache;

pub(crate) use hot::{HotLookup, ScopeIds};
pub(crate) use partition::{GrantType, Issued};
pub(crate) use schema::AccountEntry;
pub use store::StoreError;
pub use token_cache::{ImportError, TokenCache};
