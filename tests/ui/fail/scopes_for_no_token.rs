use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn dashboard(#[scopes("User.Read")] graph: AccessToken) -> String {
    format!("{:?}", graph.expires_on())
}

fn main() {}
