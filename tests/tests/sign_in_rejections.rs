//! Callbacks that must be rejected as docs/SECURITY.md defines "refused": a 4xx page with escaped text, no session,
//! nothing in the token cache and no further call to the provider.

use msal_runtime::Algorithm;
use msal_tests::{AuthorizationResponse, Browser, TestApp, location, stored_cookies};
use reqwest::StatusCode;

/// Delivers `response` and checks that it was rejected with `status` and left no trace.
async fn assert_rejected(
    app: &TestApp,
    browser: &Browser,
    response: &AuthorizationResponse,
    status: StatusCode,
) -> String {
    let token_requests_before = app.idp.requests("POST /token").await;
    let answer = browser.deliver(response).await;
    assert_eq!(answer.status(), status);
    assert!(answer.headers().get("location").is_none());
    assert!(stored_cookies(&answer).is_empty(), "no session cookie");
    assert_eq!(answer.headers()["content-type"], "text/html; charset=utf-8");
    let page = answer.text().await.unwrap();
    assert_eq!(app.me(browser).await, Err(StatusCode::UNAUTHORIZED), "no session");
    assert_eq!(app.msal.token_cache().account_count().await.unwrap(), 0, "nothing cached");
    assert_eq!(app.idp.requests("POST /token").await, token_requests_before, "no call to the token endpoint");
    page
}

#[tokio::test]
async fn tampered_or_missing_state_is_rejected() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;

    assert_rejected(&app, &browser, &response.with_param("state", Some("tampered")), StatusCode::BAD_REQUEST).await;
    assert_rejected(&app, &browser, &response.with_param("state", None), StatusCode::BAD_REQUEST).await;
    let page =
        assert_rejected(&app, &browser, &response.with_param("state", Some("<b>x</b>")), StatusCode::BAD_REQUEST).await;
    assert!(!page.contains("<b>x</b>"));

    // The untouched response still works: the failed attempts did not consume the real sign-in.
    let answer = browser.deliver(&response).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_duplicated_parameter_is_rejected() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let AuthorizationResponse::Redirect(url) = &response else { panic!() };
    let doubled = format!("{url}&state=other");
    let answer = browser.get(&doubled).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.text().await.unwrap().contains("more than once"));
    assert_eq!(app.idp.requests("POST /token").await, 0);
}

#[tokio::test]
async fn a_wrong_or_missing_issuer_is_rejected() {
    let app = TestApp::start().await;
    let browser = Browser::new();

    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let page = assert_rejected(
        &app,
        &browser,
        &response.with_param("iss", Some("https://evil.example")),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(page.contains("unexpected issuer"), "{page}");

    // The provider advertises RFC 9207 support, so a response without `iss` is a mix-up candidate.
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let page = assert_rejected(&app, &browser, &response.with_param("iss", None), StatusCode::BAD_REQUEST).await;
    assert!(page.contains("does not name its issuer"), "{page}");
}

#[tokio::test]
async fn access_denied_is_shown_escaped_without_a_session() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let authorize = app.begin_sign_in(&browser, "/").await;
    let response = browser.authorize_and_cancel(&authorize, &app.origin).await;
    assert_eq!(response.params().iter().find(|(n, _)| n == "error").unwrap().1, "access_denied");

    let page = assert_rejected(&app, &browser, &response, StatusCode::FORBIDDEN).await;
    assert!(page.contains("access_denied"), "{page}");

    // A provider error with markup in it is shown as text.
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let hostile = response
        .with_param("error", Some("server_error"))
        .with_param("error_description", Some("<script>alert(1)</script>"));
    let page = assert_rejected(&app, &browser, &hostile, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"), "{page}");
}

#[tokio::test]
async fn an_id_token_that_fails_validation_is_rejected_without_a_session() {
    // The provider signs with RS256; an app that registered PS256 only must refuse the token.
    let app = TestApp::start_with(|config| config.id_token_algorithms([Algorithm::PS256])).await;
    let browser = Browser::new();
    let response = app.sign_in_until_callback(&browser, "/", "alice").await;
    let token_requests = app.idp.requests("POST /token").await;
    let answer = browser.deliver(&response).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(stored_cookies(&answer).is_empty());
    assert!(answer.text().await.unwrap().contains("RS256"));
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(app.msal.token_cache().account_count().await.unwrap(), 0);
    assert_eq!(app.idp.requests("POST /token").await, token_requests + 1, "the code was redeemed once, nothing more");
}

#[tokio::test]
async fn malformed_callbacks_are_client_errors() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    for query in ["", "?code=x", "?state=", "?state=%FF%FE&code=%00", "?state=a&state=b"] {
        let answer = browser.get(app.url(&format!("/auth/callback{query}"))).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let answer = browser.post_form(app.url("/auth/callback"), &[], &[]).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let answer = reqwest::Client::new()
        .post(app.url("/auth/callback"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.idp.requests("POST /token").await, 0);
}

#[tokio::test]
async fn return_urls_never_leave_the_app() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ] {
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("return_url", evil).finish();
        let answer = browser.get(app.url(&format!("/auth/signin?{query}"))).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{evil:?}");
        assert!(answer.headers().get("location").is_none(), "{evil:?}");
    }
    // A same-origin path is kept, query string included, and is where the callback sends the browser.
    app.sign_in(&browser, "/mail/compose?to=a%40b.example", "alice").await;
    let answer = browser.get(app.url("/auth/signin")).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "no return_url means the site root");
    let response = browser.authorize(location(&answer), "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/");
}
