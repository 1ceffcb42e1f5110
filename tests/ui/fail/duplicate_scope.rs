use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read", "Mail.Send", "mail.read")]
async fn inbox() {}

fn main() {}
