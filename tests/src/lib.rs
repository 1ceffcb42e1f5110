//! Harness of the end-to-end tests: a real identity provider (node-oidc-provider), the example app on a free
//! loopback port, and a cookie-keeping HTTP client that goes through the provider's pages like a user.

pub mod app;
pub mod browser;
pub mod idp;

pub use app::{AppListener, MAIL_API_AUDIENCE, TestApp};
pub use browser::{AuthorizationResponse, Browser, location, set_cookies};
pub use idp::{Fault, IdpSettings, TestIdp};
