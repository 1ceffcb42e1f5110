use axum::extract::State;
use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read")]
async fn inbox(#[scopes("User.Read")] State(name): State<String>) -> String {
    name
}

fn main() {}
