use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read", permission = "../permissions.toml")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn main() {}
