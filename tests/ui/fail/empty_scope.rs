use msal_runtime::requires_scopes;

#[requires_scopes("")]
async fn inbox() {}

fn main() {}
