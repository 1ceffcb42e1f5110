use axum::extract::{FromRef, State};
use axum::{Form, Json, Router, routing::post};
use msal_runtime::{AccessToken, Msal, requires_scopes};
use serde::Deserialize;

#[derive(Clone, Copy)]
struct Count(u32);

// The runtime's extractors reach `Msal` through the app's state.
#[derive(Clone)]
struct AppState {
    msal: Msal,
    count: Count,
}

impl FromRef<AppState> for Msal {
    fn from_ref(state: &AppState) -> Msal {
        state.msal.clone()
    }
}

impl FromRef<AppState> for Count {
    fn from_ref(state: &AppState) -> Count {
        state.count
    }
}

#[derive(Deserialize)]
struct Mail {
    to: String,
}

#[requires_scopes("Mail.Send")]
async fn send_form(token: AccessToken, State(Count(count)): State<Count>, Form(mail): Form<Mail>) -> String {
    format!("{count} {} {:?}", mail.to, token.expires_on())
}

#[requires_scopes("Mail.Send")]
async fn send_json(State(Count(count)): State<Count>, token: AccessToken, Json(mail): Json<Mail>) -> String {
    format!("{count} {} {:?}", mail.to, token.expires_on())
}

fn app(msal: Msal) -> Router {
    Router::new()
        .route("/form", post(send_form))
        .route("/json", post(send_json))
        .with_state(AppState { msal, count: Count(1) })
}

fn main() {
    let _ = app;
}
