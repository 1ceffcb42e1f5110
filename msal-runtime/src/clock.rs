//! The wall clock in Unix seconds: what token lifetimes (`exp`, `expires_on`), MSAL's cache schema and
//! session timeouts are written in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is set before it).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
