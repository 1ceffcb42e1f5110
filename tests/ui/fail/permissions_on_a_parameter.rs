use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes]
async fn profile(#[scopes("User.Read", permissions = "../permissions.toml")] graph: AccessToken) -> String {
    format!("{:?}", graph.expires_on())
}

fn main() {}
