use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes]
async fn dashboard(#[scopes()] graph: AccessToken) -> String {
    format!("{:?}", graph.expires_on())
}

fn main() {}
