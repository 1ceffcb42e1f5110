//! What a test chooses: [`TestToken`], an access token a user has; [`TestFailure`], how the in-memory
//! provider refuses to refresh one.

use std::fmt;
use std::time::Duration;

/// An access token a test puts into a user's cache partition (see
/// [`TestMsal::give`](crate::testing::TestMsal::give)): an opaque string the test chooses, for some scopes,
/// valid for an hour unless said otherwise.
#[derive(Clone)]
pub struct TestToken {
    pub(crate) scopes: String,
    pub(crate) secret: String,
    pub(crate) lifetime: Duration,
}

impl TestToken {
    /// A token for `scopes` (space-separated, as handlers name them: `"Mail.Read"`) whose value is `secret`.
    pub fn new(scopes: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { scopes: scopes.into(), secret: secret.into(), lifetime: Duration::from_secs(3600) }
    }

    /// How long it is valid from now, in whole seconds. The runtime serves a cached token only while it stays
    /// valid for more than 5 minutes, so a shorter lifetime (or zero: expired) makes the next request refresh
    /// it, which the in-memory provider answers as [`TestMsal::fail`](crate::testing::TestMsal::fail) chose.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

impl fmt::Debug for TestToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestToken")
            .field("scopes", &self.scopes)
            .field("secret", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// How the in-memory provider's token endpoint answers a user's refresh for some scopes: each the shape a
/// real provider answers with (Microsoft Entra ID's), so that the runtime's own classification decides what
/// the request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TestFailure {
    /// `400 invalid_grant`, `suberror: consent_required` (AADSTS65001): the user never consented. The runtime
    /// sends a page load to the provider for the scopes, and answers a `fetch()` with 401 and a consent URL.
    /// It is also the answer to any refresh no failure was chosen for: the in-memory provider grants nothing
    /// but the tokens a test gives.
    ConsentRequired,
    /// `400 interaction_required` with `claims` (Conditional Access, AADSTS50076): the JSON claims request
    /// the user must satisfy, such as `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`. The
    /// runtime sends the user to the provider with it as the `claims` parameter.
    ClaimsChallenge(String),
    /// `503` with `Retry-After: 30`: the provider is down. The runtime serves a cached token while one is
    /// still valid, else answers 503 with `Retry-After`.
    ProviderDown,
}
