use axum::{Router, extract::State, routing::get};
use msal_runtime::{AccessToken, requires_scopes};

// One token per resource, each with its own scopes.
#[requires_scopes]
async fn dashboard(
    #[scopes("User.Read", "Mail.Read")] graph: AccessToken,
    State(title): State<&'static str>,
    #[scopes("api://contoso/Orders.Read")] orders: AccessToken,
) -> String {
    format!("{title} {:?} {:?}", graph.expires_on(), orders.expires_on())
}

// The unannotated token takes the attribute's scopes.
#[requires_scopes("Mail.Read")]
async fn both(mail: AccessToken, #[scopes("api://contoso/.default")] orders: AccessToken) -> String {
    format!("{:?} {:?}", mail.expires_on(), orders.expires_on())
}

fn main() {
    let _app: Router = Router::new().route("/", get(dashboard)).route("/both", get(both)).with_state("Dashboard");
}
