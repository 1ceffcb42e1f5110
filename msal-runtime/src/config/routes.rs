//! The paths of the routes the runtime mounts besides the callback (whose path is the redirect URI's), known
//! here so that the configuration can refuse a redirect URI that would collide with them.

/// Path of the sign-in route.
pub const SIGN_IN_PATH: &str = "/auth/signin";
/// Path of the sign-out route (GET and POST).
pub const SIGN_OUT_PATH: &str = "/auth/signout";
