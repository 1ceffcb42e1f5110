//! OpenID Connect sign-in and per-user token acquisition for [axum] apps: what MSAL and
//! Microsoft.Identity.Web give ASP.NET, for Microsoft Entra ID and any OpenID Connect provider.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use msal_runtime::{Msal, SignedInUser};
//!
//! async fn home(user: Option<SignedInUser>) -> String {
//!     match user {
//!         Some(user) => format!("Hello, {}", user.name().unwrap_or("there")),
//!         None => "Not signed in: visit /auth/signin".to_owned(),
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let msal = Msal::from_env().await?; // discovery, signing keys, stores, secure defaults
//! let app: Router = Router::new()
//!     .route("/", get(home))
//!     .merge(msal.routes()) // sign-in, the one redemption callback, sign-out
//!     .with_state(msal); // the extractors reach the runtime through the state (`Msal: FromRef<S>`)
//! // For brevity; serve with a header-read and a request timeout in production (see the README).
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! Tokens never leave the server: the browser holds an opaque, encrypted session cookie; access, refresh and
//! ID tokens live in the per-user [`TokenCache`].

mod acquire;
mod cache;
mod clock;
mod config;
mod downstream;
pub mod error;
mod extract;
mod msal;
#[cfg(test)]
mod proptests;
mod provider;
mod random;
mod scope;
mod secret;
mod session;
mod sign_in;
mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod web;
mod web_api;

pub use acquire::access_token::AccessToken;
pub use cache::token_cache::{ImportReport, SkippedEntry, TokenCache};
pub use config::builder::MsalConfigBuilder;
pub use config::routes::{SIGN_IN_PATH, SIGN_OUT_PATH};
pub use config::settings::{DEFAULT_STORE_PATH, MsalConfig, ResponseMode, TokenCacheSetting};
pub use extract::access_token_for::AccessTokenFor;
pub use extract::challenges::answer_challenges;
pub use extract::cross_origin::AllowCrossOrigin;
pub use extract::request_kind::RequestKind;
pub use extract::signed_in_user::SignedInUser;
pub use msal::Msal;
pub use provider::account::HomeAccountId;
pub use provider::authority::{Authority, EntraAuthority, EntraTenant};
pub use provider::credential::{ClientAssertionKey, ClientAuthMethod, ClientSecret};
pub use scope::registry::{ScopedHandler, handler_scopes, scoped_handlers};
pub use scope::required::RequiredScopes;
pub use scope::set::{RESERVED_SCOPES, Scope, ScopeSet};
pub use sign_in::return_url::ReturnUrl;
pub use web::cookies::COOKIE_KEY_LEN;
pub use web_api::app_caller::{AppCaller, RequiredRoles, UserOrApp};
pub use web_api::bearer::Bearer;
pub use web_api::claims_challenge::InsufficientClaims;
pub use web_api::protected_api::{ApiCaller, CallerKind, ProtectedApi};

/// Re-exported so that apps configuring `private_key_jwt` or ID token algorithms need no direct dependency.
pub use jsonwebtoken::Algorithm;
pub use msal_macros::requires_scopes;

/// What `#[requires_scopes]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::scoped_token::ScopedToken;
    pub use crate::scope::registry::ScopedHandler;
    pub use crate::scope::required::RequiredScopes;
    pub use inventory;
}
