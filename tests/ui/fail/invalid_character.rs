use msal_runtime::requires_scopes;

#[requires_scopes("Mail\\Read", "Mail.Séndé")]
async fn inbox() {}

fn main() {}
