use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use msal_runtime::{AccessToken, Msal, requires_scopes};

struct AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        StatusCode::BAD_GATEWAY.into_response()
    }
}

#[requires_scopes("Mail.Send")]
async fn send(token: AccessToken) -> Result<Redirect, AppError> {
    if token.secret().is_empty() {
        return Err(AppError);
    }
    Ok(Redirect::to("/mail"))
}

fn app(msal: Msal) -> Router {
    Router::new().route("/mail/send", post(send)).with_state(msal)
}

fn main() {
    let _ = app;
}
