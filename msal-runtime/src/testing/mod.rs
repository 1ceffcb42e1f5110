//! Testing an app's handlers without an identity provider (the `testing` feature): MSAL's "testing apps that
//! use MSAL", for axum.
//!
//! [`TestMsal`] is a real [`Msal`] (the same extractors, sessions, token cache, silent acquisition, consent
//! and sign-out code as in production) whose provider is described in memory: a made-up issuer
//! ([`ISSUER`]) whose authorize and end-session URLs no request ever reaches, and a token endpoint served in
//! process on a loopback port that answers refreshes as the test chose. Its stores are in memory and its
//! cookie key is fixed. A test then:
//!
//! - signs a user in ([`TestMsal::sign_in`]) and sends the returned [`SignedInCookie`] with its requests;
//! - gives the user the access tokens its handlers need ([`TestMsal::give_token`], [`TestMsal::give`]):
//!   opaque strings of its choosing, written to the user's partition of the token cache;
//! - or lets a request need a token the user does not have, and sees the runtime's real answer: a page load
//!   is sent to the provider's authorize URL for the scopes, a `fetch()` gets 401 with a consent URL; or
//!   chooses how the provider refuses to refresh one ([`TestMsal::fail`]: consent required, a claims
//!   challenge, the provider down).
//!
//! ```
//! use axum::body::{Body, to_bytes};
//! use axum::http::{Request, StatusCode, header::COOKIE, header::LOCATION};
//! use axum::{Router, routing::get};
//! use msal_runtime::testing::{TestMsal, TestUser};
//! use msal_runtime::{AccessToken, SignedInUser, requires_scopes};
//! use tower::ServiceExt;
//!
//! #[requires_scopes("Mail.Read")]
//! async fn inbox(user: SignedInUser, token: AccessToken) -> String {
//!     format!("{} calls the mail API with {}", user.name().unwrap_or_default(), token.secret())
//! }
//!
//! #[requires_scopes("Mail.Send")]
//! async fn compose() -> &'static str {
//!     "a form"
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let test = TestMsal::new().await?;
//! let app: Router = Router::new()
//!     .route("/mail", get(inbox))
//!     .route("/mail/compose", get(compose))
//!     .merge(test.msal().routes())
//!     .with_state(test.msal().clone());
//!
//! let alice = TestUser::new("alice").name("Alice Example");
//! let cookie = test.sign_in(&alice).await?;
//! test.give_token(&alice, "Mail.Read", "a-token-of-my-choosing").await?;
//!
//! let request = Request::get("/mail").header(COOKIE, cookie.header_value()).body(Body::empty())?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = to_bytes(response.into_body(), 1 << 16).await?;
//! assert_eq!(body, "Alice Example calls the mail API with a-token-of-my-choosing");
//!
//! // No Mail.Send token: the page load goes to the provider to ask for it.
//! let request = Request::get("/mail/compose").header(COOKIE, cookie.header_value()).body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::SEE_OTHER);
//! let location = response.headers()[LOCATION].to_str()?;
//! assert!(location.starts_with(test.authorization_endpoint().as_str()));
//! assert!(location.contains("Mail.Send"));
//! # Ok(()) }
//! ```
//!
//! What is not real: no user ever sees a provider's page, so a test goes no further than the redirect to
//! it; sessions are made by [`TestMsal::sign_in`] rather than by redeeming a code (the callback route is
//! mounted, but the in-memory provider issues no codes); tokens are the strings a test gives, not JWTs.

mod error;
mod provider;
mod signed;
#[cfg(test)]
mod tests;
mod token;
mod user;

use std::sync::atomic::{AtomicU64, Ordering};

use url::Url;

pub use self::error::TestingError;
pub use self::provider::ISSUER;
pub use self::token::{TestFailure, TestToken};
pub use self::user::{SignedInCookie, TestUser};

use crate::cache::partition::{GrantType, Issued};
use crate::cache::schema::AccountEntry;
use crate::clock::unix_now;
use crate::config::builder::MsalConfigBuilder;
use crate::config::settings::MsalConfig;
use crate::msal::{Msal, MsalError, provider_settings};
use crate::provider::account::{AccountIdentity, HomeAccountId, identify};
use crate::provider::id_token::IdTokenClaims;
use crate::provider::token_endpoint::TokenResponse;
use crate::provider::trust::Provider;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::testing::provider::InMemoryProvider;

/// The client id of the test app.
pub const CLIENT_ID: &str = "msal-testing-client";

/// The cookie key: fixed, so that nothing about a test run depends on randomness it did not ask for.
const COOKIE_KEY: [u8; crate::web::cookies::COOKIE_KEY_LEN] = [0x5a; crate::web::cookies::COOKIE_KEY_LEN];

/// A real [`Msal`] over the in-memory provider, and the means to sign users in and give them tokens (see the
/// [module](self)).
///
/// Dropping it stops its token endpoint: refreshes of a runtime still in use then find the provider down.
#[derive(Debug)]
pub struct TestMsal {
    msal: Msal,
    provider: InMemoryProvider,
    /// Numbers the refresh tokens issued at sign-in.
    sign_ins: AtomicU64,
}

impl TestMsal {
    /// The runtime with the test defaults: client [`CLIENT_ID`] with a secret, the redirect URI
    /// `http://localhost/auth/callback` (plain-http loopback: cookies without `Secure`), the in-memory store,
    /// a fixed cookie key.
    pub async fn new() -> Result<Self, TestingError> {
        Self::with_config(|config| config).await
    }

    /// [`new`](Self::new), with settings of the test's own applied to the defaults: initial scopes, trusted
    /// origins, timeouts, another redirect URI... The authority and the store stay the in-memory ones.
    pub async fn with_config(
        configure: impl FnOnce(MsalConfigBuilder) -> MsalConfigBuilder,
    ) -> Result<Self, TestingError> {
        let defaults = MsalConfig::builder()
            .client_id(CLIENT_ID)
            .client_secret("msal-testing-secret")
            .redirect_uri("http://localhost/auth/callback")
            .cookie_key(COOKIE_KEY);
        let config = configure(defaults).authority(ISSUER).token_cache("memory").build().map_err(MsalError::from)?;
        let provider = InMemoryProvider::start().await?;
        let trusted =
            Provider::described(provider_settings(&config), provider.metadata().clone()).map_err(MsalError::from)?;
        let msal = Msal::with_provider(config, trusted).await?;
        Ok(Self { msal, provider, sign_ins: AtomicU64::new(0) })
    }

    /// The runtime, for the app's router (`mail_app::router(test.msal(), …)`, `.with_state(test.msal().clone())`).
    pub fn msal(&self) -> &Msal {
        &self.msal
    }

    /// Where the runtime sends users to sign in or consent: `<ISSUER>/authorize`.
    pub fn authorization_endpoint(&self) -> &Url {
        &self.provider.metadata().authorization_endpoint
    }

    /// Where sign-out ends the provider's session: `<ISSUER>/logout`.
    pub fn end_session_endpoint(&self) -> &Url {
        self.provider.metadata().end_session_endpoint.as_ref().expect("the in-memory provider has one")
    }

    /// The key of `user`'s token-cache partition, as [`SignedInUser::home_account_id`](crate::SignedInUser)
    /// gives it.
    pub fn home_account_id(&self, user: &TestUser) -> Result<HomeAccountId, TestingError> {
        Ok(self.identity(user)?.home_account_id)
    }

    /// Signs `user` in: a new session, as the callback begins one after redeeming a code, with what that
    /// redemption writes to the user's cache partition (the account, an ID token, a refresh token, and an
    /// access token for `openid profile offline_access` only). Returns the cookie the browser would get.
    ///
    /// The user has no access token for any resource until a test gives one; a handler that needs one is
    /// answered as for a user who never consented (see [`TestFailure::ConsentRequired`]).
    pub async fn sign_in(&self, user: &TestUser) -> Result<SignedInCookie, TestingError> {
        let account = self.identity(user)?;
        let number = self.sign_ins.fetch_add(1, Ordering::Relaxed);
        let refresh_token = format!("msal-testing-refresh-token-{number}");
        self.provider.issued(refresh_token.clone(), account.home_account_id.clone());
        let scopes = ScopeSet::reserved();
        let access_token = Secret::new(format!("msal-testing-sign-in-token-{number}"));
        let response = TokenResponse {
            refresh_token: Some(Secret::new(refresh_token)),
            id_token: Some(Secret::new(format!("msal-testing-id-token-{number}"))),
            ..TokenResponse::bearer(access_token, 3600, Some(scopes.to_scope_string()))
        };
        self.record(&account, &scopes, GrantType::AuthorizationCode, &response).await?;
        let sessions = self.msal.sessions();
        let session = sessions.begin(account, None).await?;
        Ok(SignedInCookie::from_set_cookie(&sessions.cookie(&session)))
    }

    /// Gives `user` the access token `secret` for `scopes` (space-separated), valid for an hour: handlers
    /// that need those scopes ([`AccessTokenFor`](crate::AccessTokenFor), `#[requires_scopes]`) get it from
    /// the cache, as after a sign-in or a refresh that bought it. The user need not be signed in yet.
    pub async fn give_token(&self, user: &TestUser, scopes: &str, secret: &str) -> Result<(), TestingError> {
        self.give(user, TestToken::new(scopes, secret)).await
    }

    /// Gives `user` an access token as [`TestToken`] describes it (with its lifetime): written to the user's
    /// cache partition as a token response is, replacing cached tokens for overlapping scopes.
    pub async fn give(&self, user: &TestUser, token: TestToken) -> Result<(), TestingError> {
        let scopes = scopes(&token.scopes)?;
        let secret = &token.secret;
        if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TestingError::MalformedToken);
        }
        let account = self.identity(user)?;
        let response = TokenResponse::bearer(
            Secret::new(secret.as_str()),
            token.lifetime.as_secs(),
            Some(scopes.to_scope_string()),
        );
        self.record(&account, &scopes, GrantType::RefreshToken, &response).await
    }

    /// An access token of `user` for `scopes` (space-separated) of the API `audience`, as a provider signs
    /// one (an ES256 JWT, `at+jwt`, valid for an hour, scopes in `scp`), for a downstream API the test runs
    /// in process with [`protected_api`](Self::protected_api). Give it to the user with
    /// [`give_token`](Self::give_token) so that the app's handlers call the API with it.
    pub fn access_token(&self, user: &TestUser, scopes: &str, audience: &str) -> Result<String, TestingError> {
        let scopes = self::scopes(scopes)?;
        let account = self.identity(user)?;
        Ok(signed::sign(&signed::Signing {
            issuer: ISSUER,
            client_id: &self.msal.config().client_id,
            subject: &account.subject,
            name: user.name.as_deref(),
            username: (!user.username.is_empty()).then_some(user.username.as_str()),
            audience,
            scopes: &scopes,
            lifetime: std::time::Duration::from_secs(3600),
        }))
    }

    /// A [`ProtectedApi`](crate::ProtectedApi) for `audiences` trusting the in-memory provider: a downstream
    /// API the test runs in process (its real router) accepts the tokens of
    /// [`access_token`](Self::access_token) and refuses others, as it would a real provider's.
    pub fn protected_api(&self, audiences: &[&str]) -> Result<crate::ProtectedApi, TestingError> {
        Ok(crate::ProtectedApi::described(self.msal.config().authority(), self.provider.metadata(), audiences)?)
    }

    /// From now on the in-memory provider answers `failure` when the runtime refreshes a token of `user` for
    /// any of `scopes` (space-separated); a later `fail` for the same scopes replaces it.
    ///
    /// The runtime asks the provider only when no cached token serves: the user must have no token for the
    /// scopes (the default after [`sign_in`](Self::sign_in)) or one that is about to expire
    /// ([`TestToken::expires_in`]). A token that serves is served, as in production.
    pub fn fail(&self, user: &TestUser, scopes: &str, failure: TestFailure) -> Result<(), TestingError> {
        let scopes = self::scopes(scopes)?;
        let account = self.identity(user)?;
        self.provider.fail(account.home_account_id, scopes, failure);
        Ok(())
    }

    /// The account the runtime would derive from `user`'s ID token, by the same rule.
    fn identity(&self, user: &TestUser) -> Result<AccountIdentity, TestingError> {
        let subject = &user.subject;
        if subject.is_empty() || subject.len() > 255 || !subject.is_ascii() {
            return Err(TestingError::InvalidSubject { subject: subject.clone() });
        }
        let claims = IdTokenClaims {
            iss: Some(ISSUER.to_owned()),
            sub: Some(subject.clone()),
            name: user.name.clone(),
            preferred_username: (!user.username.is_empty()).then(|| user.username.clone()),
            ..IdTokenClaims::default()
        };
        // A generic (non-Entra) authority identifies a user by `iss` and `sub` alone: this cannot fail.
        Ok(identify(self.msal.config().authority(), &claims, None).expect("a generic issuer's account"))
    }

    /// Writes a token response to the user's partition, as the callback and a refresh do.
    async fn record(
        &self,
        account: &AccountIdentity,
        requested: &ScopeSet,
        grant_type: GrantType,
        response: &TokenResponse,
    ) -> Result<(), TestingError> {
        let client_id = &self.msal.config().client_id;
        let fresh = AccountEntry::from_identity(account);
        self.msal
            .token_cache()
            .update(&account.home_account_id, |partition| {
                // A refresh keeps the cached account entry (how it was first established), as the runtime's does.
                let entry = match grant_type {
                    GrantType::RefreshToken => partition.account().cloned().unwrap_or_else(|| fresh.clone()),
                    GrantType::AuthorizationCode => fresh.clone(),
                };
                let issued = Issued { account: &entry, client_id, requested, grant_type, now: unix_now() };
                partition.record(&issued, response);
            })
            .await?;
        Ok(())
    }
}

/// The scopes a test named, at least one of them for a resource.
fn scopes(value: &str) -> Result<ScopeSet, TestingError> {
    let parsed = ScopeSet::parse(value).map_err(|source| TestingError::Scopes { scopes: value.to_owned(), source })?;
    let resource = parsed.without_reserved();
    if resource.is_empty() {
        return Err(TestingError::NoResourceScope { scopes: value.to_owned() });
    }
    Ok(resource)
}
