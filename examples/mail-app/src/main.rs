//! `cargo run -p mail-app`: configuration from the environment (see the README), listening on `APP_ADDR`
//! (default `127.0.0.1:3000`), calling the mail API at `MAIL_API_URL` (default `http://127.0.0.1:3001`),
//! closing connections whose request head takes longer than `APP_HEADER_READ_TIMEOUT_SECS` (default 10) and
//! answering 408 to requests not answered within `APP_REQUEST_TIMEOUT_SECS` (default 30).

use std::process::ExitCode;

use example_server::Timeouts;
use msal_runtime::Msal;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let msal = match Msal::from_env().await {
        Ok(msal) => msal,
        Err(error) => {
            eprintln!("mail-app: {error}");
            return ExitCode::from(2);
        }
    };
    let mail_api = std::env::var("MAIL_API_URL").unwrap_or_else(|_| "http://127.0.0.1:3001".to_owned());
    let mail_api = match url::Url::parse(&mail_api) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => {
            eprintln!("mail-app: MAIL_API_URL={mail_api:?} is not an http(s) URL");
            return ExitCode::from(2);
        }
    };
    let timeouts = match Timeouts::from_env("APP_") {
        Ok(timeouts) => timeouts,
        Err(error) => {
            eprintln!("mail-app: {error}");
            return ExitCode::from(2);
        }
    };
    let addr = std::env::var("APP_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("mail-app: cannot listen on APP_ADDR={addr}: {error}");
            return ExitCode::from(2);
        }
    };
    tracing::info!("mail-app listening on http://{addr}");
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
    };
    example_server::serve(listener, mail_app::router(&msal, mail_api), timeouts, shutdown).await;
    ExitCode::SUCCESS
}
