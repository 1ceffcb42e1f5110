use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read Mail.Send")]
async fn inbox() {}

#[requires_scopes(" Mail.Read")]
async fn padded() {}

fn main() {}
