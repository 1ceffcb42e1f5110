//! Sign-in against the real identity provider, with exactly one redemption of each authorization code.

use futures::future::join_all;
use msal_runtime::{Algorithm, ClientAssertionKey, ClientAuthMethod, ResponseMode};
use msal_tests::{
    AuthorizationResponse, Browser, TestApp, idp::JWT_CLIENT_KEY_ID, location, set_cookies, stored_cookies,
};
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
}

#[tokio::test]
async fn a_replayed_callback_makes_no_second_token_request_and_keeps_the_user_signed_in() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let response = app.sign_in(&browser, "/after", "alice").await;

    let replay = browser.deliver(&response).await;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replay), "/after", "ends where the first one ended");
    assert!(app.me(&browser).await.is_ok());

    // The same URL from another browser (leaked through a log or a referrer) signs nobody in.
    let attacker = Browser::new();
    let stolen = attacker.deliver(&response).await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookies(&stolen).is_empty());
    assert_eq!(app.me(&attacker).await, Err(StatusCode::UNAUTHORIZED));

    assert_eq!(app.idp.requests("POST /token").await, 1);
    // The grant is intact: a second redemption would have made the provider revoke it.
    assert_eq!(app.idp.grant_errors().await, serde_json::json!({}));
}

#[tokio::test]
async fn twenty_concurrent_copies_of_one_callback_make_exactly_one_token_request() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let response = app.sign_in_until_callback(&browser, "/after", "alice").await;

    let responses = join_all((0..20).map(|_| browser.deliver(&response))).await;

    for response in &responses {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(response), "/after");
        assert_eq!(stored_cookies(response).len(), 1, "each answer carries the one new session");
    }
    // Whichever answer the browser keeps, it is signed in as the user (the sealed cookies differ only in
    // their encryption nonce).
    for response in &responses {
        let cookie = stored_cookies(response)[0].split(';').next().unwrap().to_owned();
        let me = reqwest::Client::new().get(app.url("/me")).header("Cookie", cookie).send().await.unwrap();
        assert_eq!(me.json::<serde_json::Value>().await.unwrap()["sub"], "alice");
    }
    assert_eq!(app.idp.requests("POST /token").await, 1);
    assert_eq!(app.idp.grants("authorization_code").await, 1);
    assert!(app.me(&browser).await.is_ok());
}

#[tokio::test]
async fn two_sign_ins_started_in_one_browser_both_complete_each_to_its_own_page() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let first = app.begin_sign_in(&browser, "/first-tab").await;
    let second = app.begin_sign_in(&browser, "/second-tab").await;

    let first = browser.authorize(&first, "alice", &app.origin).await;
    let second = browser.authorize(&second, "alice", &app.origin).await;

    let response = browser.deliver(&first).await;
    assert_eq!((response.status(), location(&response)), (StatusCode::SEE_OTHER, "/first-tab"));
    let response = browser.deliver(&second).await;
    assert_eq!((response.status(), location(&response)), (StatusCode::SEE_OTHER, "/second-tab"));
    assert_eq!(app.me(&browser).await.unwrap()["sub"], "alice");
    assert_eq!(app.idp.grants("authorization_code").await, 2);
}

#[tokio::test]
async fn pending_sign_ins_per_browser_are_capped_oldest_first() {
    let app = TestApp::start_with(|config| config.max_pending_sign_ins_per_browser(2)).await;
    let browser = Browser::new();
    let oldest = app.begin_sign_in(&browser, "/1").await;
    app.begin_sign_in(&browser, "/2").await;
    let newest = app.begin_sign_in(&browser, "/3").await;

    let dropped = browser.authorize(&oldest, "alice", &app.origin).await;
    let response = browser.deliver(&dropped).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.idp.requests("POST /token").await, 0);

    let kept = browser.authorize(&newest, "alice", &app.origin).await;
    let response = browser.deliver(&kept).await;
    assert_eq!((response.status(), location(&response)), (StatusCode::SEE_OTHER, "/3"));
}

#[tokio::test]
async fn form_post_responses_sign_in_and_must_arrive_by_post() {
    let app = TestApp::start_with(|config| config.response_mode(ResponseMode::FormPost)).await;
    let browser = Browser::new();
    let response = app.sign_in(&browser, "/after", "alice").await;
    assert!(matches!(response, AuthorizationResponse::FormPost { .. }));
    assert!(app.me(&browser).await.is_ok());

    // The same parameters of a fresh sign-in sent as a query string are refused: the pending sign-in
    // expected a POST.
    let fresh = app.sign_in_until_callback(&browser, "/again", "alice").await;
    let AuthorizationResponse::FormPost { mut action, fields } = fresh else { panic!("form_post") };
    action.query_pairs_mut().extend_pairs(fields);
    let response = browser.get(action).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.idp.requests("POST /token").await, 1);
}

#[tokio::test]
async fn client_secret_post_clients_sign_in() {
    let app = TestApp::start_with(|config| {
        config
            .client_id("mail-app-post")
            .client_secret("mail-app-post-secret")
            .client_auth_method(ClientAuthMethod::ClientSecretPost)
    })
    .await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "bob").await;
    assert_eq!(app.me(&browser).await.unwrap()["sub"], "bob");
}

#[tokio::test]
async fn private_key_jwt_clients_sign_in() {
    let key = ClientAssertionKey::from_pem(
        include_bytes!("../../msal-runtime/testdata/rsa-b.pem"),
        Algorithm::RS256,
        Some(JWT_CLIENT_KEY_ID.to_owned()),
    )
    .unwrap();
    let app = TestApp::start_with(|config| config.client_id("mail-app-jwt").client_assertion_key(key)).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "carol").await;
    assert_eq!(app.me(&browser).await.unwrap()["sub"], "carol");
}

#[tokio::test]
async fn es256_signed_id_tokens_are_accepted() {
    let app =
        TestApp::start_with(|config| config.client_id("mail-app-es256").client_secret("mail-app-es256-secret")).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "dave").await;
    assert_eq!(app.me(&browser).await.unwrap()["sub"], "dave");
}

#[tokio::test]
async fn signing_in_again_replaces_the_session() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let first_session = browser.cookie_header(&app.origin).unwrap();

    app.sign_in(&browser, "/", "alice").await;
    let second_session = browser.cookie_header(&app.origin).unwrap();
    assert_ne!(first_session, second_session, "a new session id at every sign-in");

    // The old session id no longer signs anyone in.
    let old = reqwest::Client::new().get(app.url("/me")).header("Cookie", first_session).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}
