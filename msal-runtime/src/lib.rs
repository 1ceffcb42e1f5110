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
//!     .layer(msal.layer());
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
mod extract;
mod msal;
mod provider;
mod random;
mod scope;
mod secret;
mod session;
mod sign_in;
mod web;
mod web_api;

pub use acquire::{AccessToken, AcquireError, InteractionReason, InteractionRequired, InvalidResponse};
pub use cache::{ImportError, StoreError, TokenCache};
pub use config::{
    COOKIE_KEY_LEN, ClientAuthMethod, ConfigError, MsalConfig, MsalConfigBuilder, ResponseMode, TokenCacheSetting,
};
pub use extract::{AccessTokenFor, SignInRequired, SignedInUser, TokenRejection, TokenRejectionReason};
pub use msal::{Msal, MsalError, SIGN_IN_PATH, SIGN_OUT_PATH};
pub use provider::{
    AccountError, Authority, AuthorityError, ClientAssertionKey, ClientCredential, ClientSecret, DiscoveryError,
    EntraAuthority, EntraTenant, HomeAccountId, HttpError, IdTokenError, IssuerMismatch, ProviderError, TokenError,
};
pub use scope::{
    RESERVED_SCOPES, RequiredScopes, Scope, ScopeError, ScopeSet, ScopedHandler, handler_scopes, scoped_handlers,
};
pub use sign_in::{ReturnUrl, ReturnUrlError};
pub use web::params::ParamsError;
pub use web_api::{ApiCaller, Bearer, BearerError, BearerRejection, ProtectedApi};

/// Re-exported so that apps configuring `private_key_jwt` or ID token algorithms need no direct dependency.
pub use jsonwebtoken::Algorithm;
pub use msal_macros::requires_scopes;

/// What `#[requires_scopes]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::ScopedToken;
    pub use crate::scope::{RequiredScopes, ScopedHandler};
    pub use inventory;
}
