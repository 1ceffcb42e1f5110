use msal_runtime::requires_scopes;

#[requires_scopes("openid", "Mail.Read", "offline_access")]
async fn inbox() {}

fn main() {}
