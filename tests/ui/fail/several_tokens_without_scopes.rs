use msal_runtime::{AccessToken, requires_scopes};

#[requires_scopes("Mail.Read")]
async fn dashboard(mail: AccessToken, orders: AccessToken) -> String {
    format!("{:?} {:?}", mail.expires_on(), orders.expires_on())
}

fn main() {}
