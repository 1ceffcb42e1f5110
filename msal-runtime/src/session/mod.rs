//! Who is signed in in which browser: server-side sessions behind an opaque cookie.

pub(crate) mod store;
