use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Sned", permissions = "../permissions.toml")]
async fn send(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

#[requires_scopes("api://contoso/Order.Read", permissions = "../permissions.toml")]
async fn orders(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

#[requires_scopes("Calendars.ReadWrite", permissions = "../permissions.toml")]
async fn calendar(token: AccessToken) -> String {
    format!("{:?}", token.expires_on())
}

fn main() {}
