//! What the app trusts about its identity provider: the authority and its issuer rules, discovery, signing
//! keys, JWS and ID token validation, who the user is, and the token endpoint.

pub(crate) mod account;
pub(crate) mod authority;
pub(crate) mod discovery;
pub(crate) mod http;
pub(crate) mod id_token;
pub(crate) mod jws;
pub(crate) mod signing_keys;
pub(crate) mod token_endpoint;

pub use account::{AccountError, HomeAccountId};
pub use authority::{Authority, AuthorityError, EntraAuthority, EntraTenant, IssuerMismatch};
pub use discovery::DiscoveryError;
pub use http::HttpError;
pub use id_token::IdTokenError;
pub use token_endpoint::{ClientAssertionKey, ClientCredential, ClientSecret, ProviderError, TokenError};
