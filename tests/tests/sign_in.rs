//! Sign-in against the real identity provider, with exactly one redemption of each authorization code.

use msal_tests::{Browser, TestApp, location};
use reqwest::StatusCode;

#[tokio::test]
async fn full_sign_in_redeems_the_code_once_and_shows_the_user() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));

    app.sign_in(&browser, "/mail?folder=inbox", "alice").await;

    let me = app.me(&browser).await.expect("signed in");
    assert_eq!(me["name"], "Alice Example");
    assert_eq!(me["sub"], "alice");
    let home_account_id = me["home_account_id"].as_str().unwrap();
    assert!(home_account_id.starts_with("alice."), "{home_account_id}");
    let home = browser.get(app.url("/")).await.text().await.unwrap();
    assert!(home.contains("Alice Example"), "{home}");

    assert_eq!(app.idp.grants("authorization_code").await, 1);
    assert_eq!(app.idp.requests("POST /token").await, 1);
    assert_eq!(app.msal.token_cache().account_count().await.unwrap(), 1);
    let _ = location;
}
