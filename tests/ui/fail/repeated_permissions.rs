use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read", permissions = "../permissions.toml", permissions = "../msal.toml")]
async fn inbox(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn main() {}
