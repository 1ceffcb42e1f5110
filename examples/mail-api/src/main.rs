//! `cargo run -p mail-api`: trusts `MSAL_AUTHORITY`, expects the audience `MAIL_API_AUDIENCE` (default
//! `api://mail-api`), listens on `MAIL_API_ADDR` (default `127.0.0.1:3001`), closes connections whose request
//! head takes longer than `MAIL_API_HEADER_READ_TIMEOUT_SECS` (default 10) and answers 408 to requests not
//! answered within `MAIL_API_REQUEST_TIMEOUT_SECS` (default 30). With `MAIL_API_ADMIN_KEY` set,
//! `POST /admin/revoke/{user}` with `X-Admin-Key: <key>` revokes a user's sessions (a claims challenge follows).
//!
//! On-behalf-of: with `MAIL_API_CLIENT_ID` and `MAIL_API_CLIENT_SECRET` (the mail API's own app registration),
//! it also serves the contacts API on `CONTACTS_API_ADDR` (default `127.0.0.1:3002`) and `GET /contacts` calls
//! it on behalf of the caller; without them `GET /contacts` answers 503.

use std::process::ExitCode;

use example_server::Timeouts;
use msal_runtime::{Msal, MsalConfig, ProtectedApi};
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
    let contacts = match contacts(&authority).await {
        Ok(contacts) => contacts,
        Err(error) => {
            eprintln!("mail-api: {error}");
            return ExitCode::from(2);
        }
    };
    let app = mail_api::router_with_contacts(&api, mail_api::Mailboxes::default(), admin_key.as_deref(), contacts);
    example_server::serve(listener, app, timeouts, shutdown).await;
    ExitCode::SUCCESS
}

/// With the mail API's own registration configured: its runtime (for on-behalf-of tokens) and the contacts API,
/// served on `CONTACTS_API_ADDR`.
async fn contacts(authority: &str) -> Result<Option<mail_api::Contacts>, Box<dyn std::error::Error>> {
    let (Ok(client_id), Ok(secret)) = (std::env::var("MAIL_API_CLIENT_ID"), std::env::var("MAIL_API_CLIENT_SECRET"))
    else {
        return Ok(None);
    };
    // A web API's runtime: its own registration, tokens in memory, and no sign-in.
    let config = MsalConfig::builder()
        .authority(authority)
        .client_id(client_id)
        .client_secret(secret)
        .without_sign_in()
        .token_cache("memory")
        .build()?;
    let msal = Msal::new(config).await?;
    let contacts_addr = std::env::var("CONTACTS_API_ADDR").unwrap_or_else(|_| "127.0.0.1:3002".to_owned());
    let contacts_api = ProtectedApi::new(authority, &[mail_api::contacts_api::AUDIENCE]).await?;
    let listener = tokio::net::TcpListener::bind(&contacts_addr).await?;
    tracing::info!("contacts API listening on http://{contacts_addr}");
    let router = mail_api::contacts_api::router(&contacts_api);
    tokio::spawn(example_server::serve(listener, router, Timeouts::default(), std::future::pending()));
    let url = url::Url::parse(&format!("http://{contacts_addr}/"))?;
    Ok(Some(mail_api::Contacts::new(msal, url)))
}
