//! The in-memory layout of a partition: what the memory store keeps per user, sized to what it holds.
//!
//! MSAL's schema (`schema`) is the format for export, import and stores outside the process; in memory its
//! entities would cost three times the tokens they hold (a B-tree per kind of entity, a heap string per field,
//! each entry's key spelled out). Packed, a cached user costs little more than their secrets: the access
//! tokens as a cache hit reads them (`partition`), and everything else in one compact buffer (`cold`), where
//! the strings many users share are process-wide symbols (`symbols`). The memory benchmark in the README
//! shows how much.

mod cold;
pub(crate) mod partition;
mod symbols;
