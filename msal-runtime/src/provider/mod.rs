//! What the app trusts about its identity provider: the authority and its issuer rules, discovery, signing
//! keys, JWS and ID token validation, who the user is, the app's credential and the token endpoint.
//! [`trust::Provider`] puts them together at start-up.

pub(crate) mod account;
pub(crate) mod admin_consent;
pub(crate) mod authority;
pub(crate) mod capabilities;
pub(crate) mod credential;
pub(crate) mod discovery;
pub(crate) mod http;
pub(crate) mod id_token;
pub(crate) mod jws;
pub(crate) mod signing_keys;
pub(crate) mod token_endpoint;
pub(crate) mod trust;
