//! Who is signed in in which browser: server-side sessions behind an opaque, sealed cookie.

pub(crate) mod sessions;
pub(crate) mod shared;
pub(crate) mod store;
