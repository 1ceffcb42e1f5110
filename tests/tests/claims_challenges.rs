//! An API's challenges, end to end: the mail API revokes a user's sessions and answers their older tokens with
//! a claims challenge (as an Entra-protected API does under continuous access evaluation), or refuses a token
//! without the scope it needs; the app's handlers return them with `?`, and the user is sent to the provider
//! for exactly that, then the page loads again.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use msal_runtime::error::DownstreamError;
use msal_runtime::{AccessToken, Msal, answer_challenges, requires_scopes};
use msal_tests::{AppListener, Browser, TestApp, app_reading_mail, cache_entries, location, query_param};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

/// The access tokens the user's cache holds.
async fn access_tokens(app: &TestApp, browser: &Browser) -> Vec<String> {
    let tokens = app.cached_tokens(browser).await.unwrap();
    cache_entries(&tokens, "AccessToken").iter().map(|at| at["secret"].as_str().unwrap().to_owned()).collect()
}

/// Alice signed in with an inbox token, then her sessions revoked at the mail API a second later (tokens are
/// dated to the second).
async fn revoked_after_sign_in(app: &TestApp, browser: &Browser) -> Vec<String> {
    app.sign_in(browser, "/", "alice").await;
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
    let before = access_tokens(app, browser).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.revoke_at_mail_api("alice").await;
    before
}

#[tokio::test]
async fn a_claims_challenge_sends_the_user_to_the_provider_with_the_claims_and_the_page_loads_again() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    let refused = revoked_after_sign_in(&app, &browser).await;

    let page = browser.get_with(app.url("/mail"), &[("sec-fetch-mode", "navigate"), ("accept", "text/html")]).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert!(authorize.starts_with(&format!("{}/auth?", app.idp.issuer)), "{authorize}");
    let claims: Value = serde_json::from_str(&query_param(&authorize, "claims").expect("the API's claims")).unwrap();
    assert_eq!(claims["access_token"]["nbf"]["essential"], true, "{claims}");
    assert!(query_param(&authorize, "scope").unwrap().split(' ').any(|scope| scope == "Mail.Read"));
    assert_eq!(query_param(&authorize, "login_hint").as_deref(), Some("alice@example.test"));
    // The token the API refused is not served again, whatever happens next.
    let cached = access_tokens(&app, &browser).await;
    assert!(refused.iter().all(|token| !cached.contains(token)), "the refused token was dropped");

    // Through the provider and back: a new token, and the inbox loads.
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!((callback.status(), location(&callback)), (StatusCode::SEE_OTHER, "/mail"));
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
    assert_eq!(app.idp.grants("authorization_code").await, 2, "one re-authentication");
    assert_eq!(app.idp.grants("refresh_token").await, 0, "the refused token was not refreshed silently instead");
}

#[tokio::test]
async fn a_fetch_gets_a_401_whose_consent_url_carries_the_claims() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    revoked_after_sign_in(&app, &browser).await;

    let referer = app.url("/mail");
    let answer = browser
        .get_with(
            app.url("/mail"),
            &[("sec-fetch-mode", "cors"), ("accept", "application/json"), ("referer", &referer)],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["reason"], "a claims challenge must be satisfied", "{body}");
    let consent_url = app.url(body["consent_url"].as_str().unwrap());
    assert!(query_param(&consent_url, "claims").is_some_and(|claims| claims.contains("nbf")), "{consent_url}");
    // The script sends the window there: the sign-in starts with the claims, and ends back on the page.
    let start = browser.get(&consent_url).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start).to_owned();
    assert!(query_param(&authorize, "claims").is_some());
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/mail");
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
}

#[derive(Clone)]
struct Api {
    msal: Msal,
    messages: Url,
}

impl axum::extract::FromRef<Api> for Msal {
    fn from_ref(api: &Api) -> Msal {
        api.msal.clone()
    }
}

/// Posts a message with a `Mail.Read` token: the mail API wants `Mail.Send` (RFC 6750 `insufficient_scope`).
#[requires_scopes("Mail.Read")]
async fn post_with_the_wrong_token(
    token: AccessToken,
    State(api): State<Api>,
) -> Result<&'static str, DownstreamError> {
    let message = serde_json::json!({ "to": "bob", "subject": "hi", "body": "hello" });
    token.call(reqwest::Client::new().post(api.messages.clone()).json(&message)).await?.error_for_status()?;
    Ok("sent")
}

/// The app's own router with the handler above, with or without the middleware.
async fn app_posting_with_the_wrong_token(middleware: bool) -> TestApp {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    let config = listener.config(&idp).initial_scopes(["Mail.Read"]);
    listener
        .serve_router(idp, config, move |msal, mail_api| {
            let api = Api { msal: msal.clone(), messages: mail_api.join("messages").unwrap() };
            let router = Router::new().route("/post", get(post_with_the_wrong_token));
            let router = if middleware {
                router.layer(axum::middleware::from_fn_with_state(msal.clone(), answer_challenges))
            } else {
                router
            };
            router.with_state(api).merge(msal.routes())
        })
        .await
}

#[tokio::test]
async fn an_insufficient_scope_answer_asks_consent_for_the_scopes_the_api_named() {
    let app = app_posting_with_the_wrong_token(true).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let page = browser.get_with(app.url("/post"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert!(authorize.starts_with(&format!("{}/auth?", app.idp.issuer)), "{authorize}");
    let scopes = query_param(&authorize, "scope").unwrap();
    assert!(scopes.split(' ').any(|scope| scope == "Mail.Send"), "{scopes}");
    assert!(query_param(&authorize, "claims").is_none());
}

#[tokio::test]
async fn without_the_middleware_a_challenge_is_a_page_linking_to_the_consent() {
    let app = app_posting_with_the_wrong_token(false).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let page = browser.get_with(app.url("/post"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("/auth/signin?scope=Mail.Send"), "{html}");
}

#[tokio::test]
async fn declared_capabilities_go_with_every_authorization_request_merged_with_a_challenge() {
    let app = TestApp::start_with(|config| config.initial_scopes(["Mail.Read"]).client_capabilities(["cp1"])).await;
    let browser = Browser::new();
    let authorize = app.begin_sign_in(&browser, "/").await;
    let claims: Value = serde_json::from_str(&query_param(&authorize, "claims").unwrap()).unwrap();
    assert_eq!(claims, serde_json::json!({ "access_token": { "xms_cc": { "values": ["cp1"] } } }));
    // The provider takes them on the authorization and the token request alike: the sign-in completes.
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(browser.deliver(&response).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);

    // A claims challenge then carries both.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.revoke_at_mail_api("alice").await;
    let page = browser.get_with(app.url("/mail"), &[("sec-fetch-mode", "navigate")]).await;
    let claims: Value = serde_json::from_str(&query_param(location(&page), "claims").unwrap()).unwrap();
    assert_eq!(claims["access_token"]["xms_cc"]["values"], serde_json::json!(["cp1"]));
    assert_eq!(claims["access_token"]["nbf"]["essential"], true);
}
