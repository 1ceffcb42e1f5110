use msal_runtime::{AccessToken, requires_scopes};

// A syntax error in the body is the compiler's to report; the macro does not read the body.
#[requires_scopes("Mail.Read")]
async fn inbox(token: AccessToken) -> String {
    let expires = token.expires_on()
    format!("{expires:?}")
}

fn main() {}
