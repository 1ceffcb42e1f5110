//! What the app trusts of the provider: its discovery document and its rotating signing keys.

use std::time::Duration;

use msal_runtime::Msal;
use msal_runtime::error::{DiscoveryError, MsalError};
use msal_tests::{AppListener, Browser, IdpSettings, TestApp};
use reqwest::StatusCode;

/// An app started while the provider's signing key (`rsa-1`) is not published yet, allowed to re-fetch the
/// provider's keys once an hour.
async fn app_started_before_the_signing_key_is_published() -> TestApp {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    idp.settings(IdpSettings::new().hidden_kids(&["rsa-1"])).await;
    let config = listener.config(&idp).jwks_min_refetch_interval(Duration::from_secs(3600));
    listener.serve(idp, config).await
}

#[tokio::test]
async fn a_key_published_after_start_up_is_fetched_once_when_first_seen() {
    let app = app_started_before_the_signing_key_is_published().await;
    app.idp.settings(IdpSettings::new().hidden_kids(&[])).await;
    app.idp.reset().await;

    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    assert_eq!(app.idp.requests("GET /jwks").await, 1, "one re-fetch for the unknown kid");

    // The key is now known: further sign-ins fetch nothing.
    app.sign_in(&Browser::new(), "/", "bob").await;
    assert_eq!(app.idp.requests("GET /jwks").await, 1);
}

#[tokio::test]
async fn unknown_keys_are_refetched_at_most_once_per_interval_and_rejected() {
    let app = app_started_before_the_signing_key_is_published().await;
    app.idp.reset().await;

    for login in ["alice", "bob", "carol"] {
        let browser = Browser::new();
        let response = app.sign_in_until_callback(&browser, "/", login).await;
        let answer = browser.deliver(&response).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.text().await.unwrap().contains("signing key"));
        assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    }
    assert_eq!(app.idp.requests("GET /jwks").await, 1, "rate-limited");
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_stops_start_up() {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    // Same provider, but configured with a trailing slash: OpenID Connect requires an exact match.
    let config = listener.config(&idp).authority(format!("{}/", idp.issuer)).build().unwrap();
    let error = Msal::new(config).await.unwrap_err();
    assert!(matches!(error, MsalError::Discovery(DiscoveryError::IssuerMismatch(_))), "{error}");
    assert!(error.to_string().contains("issuer"), "{error}");
}

#[tokio::test]
async fn an_unreachable_provider_stops_start_up_with_a_clear_error() {
    let listener = AppListener::bind().await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = msal_runtime::MsalConfig::builder()
        .token_cache("memory")
        .authority(format!("http://{closed}"))
        .client_id("mail-app")
        .client_secret("secret")
        .redirect_uri(listener.redirect_uri())
        .build()
        .unwrap();
    let error = Msal::new(config).await.unwrap_err();
    assert!(matches!(error, MsalError::Discovery(DiscoveryError::Http(_))), "{error}");
    assert!(error.to_string().contains("could not reach the identity provider"), "{error}");
}
