use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("https://graph.microsoft.com/Mail.Read", "api://contoso/Orders.Read")]
async fn dashboard(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn main() {}
