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

mod access_token;
mod account;
mod acquire;
mod authority;
mod cache;
mod callback;
mod config;
mod consent;
mod cookies;
mod discovery;
mod extract;
mod form_params;
mod http_client;
mod id_token;
mod jws;
mod msal;
mod pages;
mod pending_sign_in;
mod pkce;
mod protected_api;
mod random;
mod registry;
mod return_url;
mod scope;
mod secret;
mod session;
mod sign_in;
mod sign_out;
mod signing_keys;
mod token_endpoint;

pub use access_token::AccessToken;
pub use account::{AccountError, HomeAccountId};
pub use acquire::{AcquireError, InteractionReason, InteractionRequired, InvalidResponse};
pub use authority::{Authority, AuthorityError, EntraAuthority, EntraTenant, IssuerMismatch};
pub use cache::{ImportError, StoreError, TokenCache};
pub use config::{
    COOKIE_KEY_LEN, ClientAuthMethod, ConfigError, MsalConfig, MsalConfigBuilder, ResponseMode, TokenCacheSetting,
};
pub use discovery::DiscoveryError;
pub use extract::{
    AccessTokenFor, Bearer, BearerRejection, RequiredScopes, SignInRequired, SignedInUser, TokenRejection,
    TokenRejectionReason,
};
pub use form_params::ParamsError;
pub use http_client::HttpError;
pub use id_token::IdTokenError;
pub use msal::{Msal, MsalError, SIGN_IN_PATH, SIGN_OUT_PATH};
pub use protected_api::{ApiCaller, BearerError, ProtectedApi};
pub use return_url::{ReturnUrl, ReturnUrlError};
pub use scope::{RESERVED_SCOPES, Scope, ScopeError, ScopeSet};
pub use token_endpoint::{ClientAssertionKey, ClientCredential, ClientSecret, ProviderError, TokenError};

/// Re-exported so that apps configuring `private_key_jwt` or ID token algorithms need no direct dependency.
pub use jsonwebtoken::Algorithm;
pub use msal_macros::requires_scopes;
pub use registry::{ScopedHandler, handler_scopes, scoped_handlers};

/// What `#[requires_scopes]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::{RequiredScopes, ScopedToken};
    pub use crate::registry::ScopedHandler;
    pub use inventory;
}
