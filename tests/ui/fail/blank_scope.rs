use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read", "   ")]
async fn inbox() {}

fn main() {}
