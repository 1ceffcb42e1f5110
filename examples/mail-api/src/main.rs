//! `cargo run -p mail-api`: trusts `MSAL_AUTHORITY`, expects the audience `MAIL_API_AUDIENCE` (default
//! `api://mail-api`), listens on `MAIL_API_ADDR` (default `127.0.0.1:3001`), closes connections whose request
//! head takes longer than `MAIL_API_HEADER_READ_TIMEOUT_SECS` (default 10) and answers 408 to requests not
//! answered within `MAIL_API_REQUEST_TIMEOUT_SECS` (default 30). With `MAIL_API_ADMIN_KEY` set,
//! `POST /admin/revoke/{user}` with `X-Admin-Key: <key>` revokes a user's sessions (a claims challenge follows).

use std::process::ExitCode;

use example_server::Timeouts;
use msal_runtime::ProtectedApi;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let Ok(authority) = std::env::var("MSAL_AUTHORITY") else {
        eprintln!("mail-api: MSAL_AUTHORITY is required");
        return ExitCode::from(2);
    };
    let audience = std::env::var("MAIL_API_AUDIENCE").unwrap_or_else(|_| "api://mail-api".to_owned());
    let api = match ProtectedApi::new(&authority, &[&audience]).await {
        Ok(api) => api,
        Err(error) => {
            eprintln!("mail-api: {error}");
            return ExitCode::from(2);
        }
    };
    let timeouts = match Timeouts::from_env("MAIL_API_") {
        Ok(timeouts) => timeouts,
        Err(error) => {
            eprintln!("mail-api: {error}");
            return ExitCode::from(2);
        }
    };
    let addr = std::env::var("MAIL_API_ADDR").unwrap_or_else(|_| "127.0.0.1:3001".to_owned());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("mail-api: cannot listen on MAIL_API_ADDR={addr}: {error}");
            return ExitCode::from(2);
        }
    };
    tracing::info!("mail-api listening on http://{addr}");
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
    };
    // Optional: enables `POST /admin/revoke/{user}` for requests with `X-Admin-Key: <this>`.
    let admin_key = std::env::var("MAIL_API_ADMIN_KEY").ok().filter(|key| !key.is_empty());
    let app = mail_api::router_with_admin(&api, mail_api::Mailboxes::default(), admin_key.as_deref());
    example_server::serve(listener, app, timeouts, shutdown).await;
    ExitCode::SUCCESS
}
