use msal_runtime::{AccessToken, requires_scopes};

// The token keeps its name and span, so the compiler suggests it.
#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", tokn.expires_on())
}

fn main() {}
