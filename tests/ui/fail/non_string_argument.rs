use msal_runtime::requires_scopes;

#[requires_scopes(Mail.Read, 42)]
async fn inbox() {}

fn main() {}
