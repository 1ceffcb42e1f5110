use msal_runtime::requires_scopes;

#[requires_scopes("api://contoso/.default", "api://contoso/Orders.Read")]
async fn orders() {}

fn main() {}
