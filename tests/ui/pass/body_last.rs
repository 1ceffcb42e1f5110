use axum::{Form, Json, Router, extract::State, routing::post};
use msal_runtime::{AccessToken, requires_scopes};
use serde::Deserialize;

#[derive(Deserialize)]
struct Mail {
    to: String,
}

#[requires_scopes("Mail.Send")]
async fn send_form(token: AccessToken, State(count): State<u32>, Form(mail): Form<Mail>) -> String {
    format!("{count} {} {:?}", mail.to, token.expires_on())
}

#[requires_scopes("Mail.Send")]
async fn send_json(State(count): State<u32>, token: AccessToken, Json(mail): Json<Mail>) -> String {
    format!("{count} {} {:?}", mail.to, token.expires_on())
}

fn main() {
    let _app: Router = Router::new().route("/form", post(send_form)).route("/json", post(send_json)).with_state(1);
}
