//! Set-ups that several test files start from.

use crate::TestApp;

/// A provider and `mail-app` whose users are asked for `Mail.Read` at sign-in (and for `Mail.Send` when they
/// first compose).
pub async fn app_reading_mail() -> TestApp {
    TestApp::start_with(|config| config.initial_scopes(["Mail.Read"])).await
}
