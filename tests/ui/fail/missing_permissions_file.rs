use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read", permissions = "../no-such-file.toml")]
async fn inbox() {}

fn main() {}
