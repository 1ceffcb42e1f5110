//! Harness of the end-to-end tests: a real identity provider (node-oidc-provider), the example app on a free
//! loopback port, a cookie-keeping HTTP client that goes through the provider's pages like a user, headless
//! Chromium for the browser test, and (from `redis-test-server`) a `redis-server` of a test's own.

pub mod app;
pub mod bench_cache;
pub mod browser;
pub mod chromium;
pub mod cluster;
pub mod fixtures;
pub mod idp;
pub mod interop;
pub mod memory;
pub mod tokens;

pub use app::{AppListener, MAIL_API_ADMIN_KEY, MAIL_API_AUDIENCE, TestApp};
pub use browser::{AuthorizationResponse, Browser, form_fields, location, query_param, set_cookies, stored_cookies};
pub use cluster::{Cluster, Instance};
pub use example_server::Timeouts;
pub use fixtures::app_reading_mail;
pub use idp::{Fault, IdpSettings, TestIdp};
pub use memory::resident_bytes;
pub use redis_test_server::RedisServer;
pub use tokens::{cache_entries, jwt_claims};
