//! [`AccessToken`]: what a handler gets to call an API on the user's behalf.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;

use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// 9999-12-31T23:59:59Z in Unix seconds: a time every platform's `SystemTime` can hold.
const END_OF_9999: u64 = 253_402_300_799;

/// A valid access token of the signed-in user for the scopes the handler asked for.
///
/// `Debug` prints `[redacted]`; there is no `Display` and no `Serialize`, so it cannot end up in a log line,
/// a cookie or a response by accident (docs/SECURITY.md §21).
#[derive(Clone)]
pub struct AccessToken {
    secret: Secret,
    expires_on: u64,
    /// The scopes it was acquired for, when an extractor knows them (a consent after an API's challenge asks
    /// for them again).
    scopes: Option<&'static ScopeSet>,
}

impl AccessToken {
    pub(crate) fn new(secret: Secret, expires_on: u64) -> Self {
        Self { secret, expires_on, scopes: None }
    }

    pub(crate) fn for_scopes(mut self, scopes: &'static ScopeSet) -> Self {
        self.scopes = Some(scopes);
        self
    }

    pub(crate) fn scopes(&self) -> Option<&'static ScopeSet> {
        self.scopes
    }

    /// The token itself, to send as `Authorization: Bearer <token>`.
    pub fn secret(&self) -> &str {
        self.secret.expose()
    }

    /// `Bearer <token>` as an `Authorization` header value, marked sensitive so that HTTP libraries do not
    /// log it.
    pub fn authorization_header(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.secret.expose()))
            .expect("access tokens are checked to be visible ASCII when received");
        value.set_sensitive(true);
        value
    }

    /// When the token expires.
    pub fn expires_on(&self) -> SystemTime {
        // Any u64 can come from the provider or an imported cache, and adding a time past what `SystemTime`
        // holds panics: such a token expires at the end of year 9999 (the HTTP-date range) instead.
        UNIX_EPOCH + Duration::from_secs(self.expires_on.min(END_OF_9999))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("secret", &"[redacted]").field("expires_on", &self.expires_on).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let token = AccessToken::new(Secret::new("eyJ.secret.sig"), 1_800_000_000);
        let debug = format!("{token:?}");
        assert!(!debug.contains("eyJ") && debug.contains("[redacted]"), "{debug}");
        assert!(token.authorization_header().is_sensitive());
        assert_eq!(token.authorization_header(), "Bearer eyJ.secret.sig");
        assert_eq!(token.secret(), "eyJ.secret.sig");
    }

    #[test]
    fn an_expiry_past_what_system_time_holds_is_the_end_of_9999() {
        // Found by a property test: `"expires_on": "18446744073709551615"` in an imported cache panicked here.
        assert_eq!(
            AccessToken::new(Secret::new("t"), u64::MAX).expires_on(),
            UNIX_EPOCH + Duration::from_secs(END_OF_9999)
        );
        assert_eq!(
            AccessToken::new(Secret::new("t"), 1_800_000_000).expires_on(),
            UNIX_EPOCH + Duration::from_secs(1_800_000_000)
        );
    }
}
