use msal_runtime::{AccessToken, requires_scopes};

struct Mailbox;

impl Mailbox {
    #[requires_scopes("Mail.Read")]
    async fn inbox(&self, token: AccessToken) -> String {
        format!("{:?}", token.expires_on())
    }
}

fn main() {
    let _ = Mailbox;
}
