//! [`TestUser`]: who a test signs in; [`SignedInCookie`]: what its requests then carry.

use std::fmt;

use http::HeaderValue;

/// A user of the in-memory provider, as its ID token would name them.
///
/// Only `sub` is required; the account (and so the token-cache partition) is derived from it exactly as
/// from a real ID token, so two `TestUser`s with the same subject are the same user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    pub(crate) subject: String,
    pub(crate) name: Option<String>,
    pub(crate) username: String,
}

impl TestUser {
    /// The user whose `sub` is `subject`, with the sign-in name `<subject>@example.test` and no display name.
    pub fn new(subject: impl Into<String>) -> Self {
        let subject = subject.into();
        let username = format!("{subject}@example.test");
        Self { subject, name: None, username }
    }

    /// The display name (the `name` claim): what [`SignedInUser::name`](crate::SignedInUser::name) gives.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The sign-in name (`preferred_username`), also sent as `login_hint` when the user is sent to the
    /// provider. Default: `<subject>@example.test`.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// The `sub` claim.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// The session cookie of a signed-in test user, as a browser sends it back: `name=value`, for a request's
/// `Cookie` header.
///
/// It is a credential (the sealed session id), so `Debug` shows the cookie's name only.
#[derive(Clone)]
pub struct SignedInCookie {
    pair: String,
}

impl SignedInCookie {
    /// From the `Set-Cookie` value the runtime gives a browser when a session begins.
    pub(crate) fn from_set_cookie(set_cookie: &HeaderValue) -> Self {
        let line = set_cookie.to_str().expect("the runtime's Set-Cookie values are ASCII");
        let pair = line.split(';').next().unwrap_or(line).trim().to_owned();
        Self { pair }
    }

    /// The `Cookie` header value: `request.header(COOKIE, cookie.header_value())`. Marked sensitive, as the
    /// browser's would be.
    pub fn header_value(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&self.pair).expect("a cookie pair is a valid header value");
        value.set_sensitive(true);
        value
    }

    /// `name=value`, to join with other cookies of a `Cookie` header (`"theme=dark; " + pair`).
    pub fn as_str(&self) -> &str {
        &self.pair
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        self.pair.split_once('=').map_or(self.pair.as_str(), |(name, _)| name)
    }
}

impl fmt::Debug for SignedInCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedInCookie").field("name", &self.name()).field("value", &"[redacted]").finish()
    }
}

impl From<&SignedInCookie> for HeaderValue {
    fn from(cookie: &SignedInCookie) -> Self {
        cookie.header_value()
    }
}
