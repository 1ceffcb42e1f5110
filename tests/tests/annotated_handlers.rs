//! `#[requires_scopes]` handlers in a real axum app against the real provider: the token is served, consent
//! is asked for by page loads and `fetch()`, two resources get two tokens, and the app-wide scope list.

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use msal_runtime::{AccessToken, Msal, ScopeSet, requires_scopes};
use msal_tests::{AppListener, Browser, TestApp, location};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The audience and scopes of a JWT access token (the provider's own, read unverified for the test).
fn audience_and_scopes(token: &AccessToken) -> Value {
    let payload = token.secret().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    json!({ "aud": claims["aud"], "scope": claims["scope"] })
}

/// Reads with a Mail.Read token.
#[requires_scopes("Mail.Read")]
async fn read(token: AccessToken) -> Json<Value> {
    Json(audience_and_scopes(&token))
}

/// A page that uses no token itself but needs Mail.Send consent first.
#[requires_scopes("Mail.Send")]
async fn compose() -> &'static str {
    "compose"
}

/// Two resources, two tokens.
#[requires_scopes]
async fn dashboard(
    #[scopes("Mail.Read")] mail: AccessToken,
    #[scopes("api://orders-api/Orders.Read")] orders: AccessToken,
) -> Json<Value> {
    Json(json!({ "mail": audience_and_scopes(&mail), "orders": audience_and_scopes(&orders) }))
}

fn router(msal: &Msal, _mail_api: url::Url) -> Router {
    Router::new()
        .route("/read", get(read))
        .route("/compose", get(compose))
        .route("/dashboard", get(dashboard))
        .merge(msal.routes())
        .with_state(msal.clone())
}

async fn app(configure: impl FnOnce(msal_runtime::MsalConfigBuilder) -> msal_runtime::MsalConfigBuilder) -> TestApp {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    let config = configure(listener.config(&idp).initial_scopes(["Mail.Read"]));
    listener.serve_router(idp, config, router).await
}

#[tokio::test]
async fn the_token_is_served_and_missing_consent_is_asked_for() {
    let app = app(|config| config).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let read = browser.get(app.url("/read")).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), json!({ "aud": "api://mail-api", "scope": "Mail.Read" }));

    // A page load goes to the provider for Mail.Send (the handler has no token parameter; consent first).
    let page = browser.get_with(app.url("/compose"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(location(&page).starts_with(&app.idp.issuer) && location(&page).contains("Mail.Send"));
    // A fetch() gets a 401 with a consent URL.
    let fetch = browser.get_with(app.url("/compose"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(fetch.status(), StatusCode::UNAUTHORIZED);
    assert!(fetch.json::<Value>().await.unwrap()["consent_url"].as_str().unwrap().starts_with("/auth/signin?"));

    let response = browser.authorize(location(&page), "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/compose");
    assert_eq!(browser.get(app.url("/compose")).await.text().await.unwrap(), "compose");
}

#[tokio::test]
async fn a_handler_calling_two_resources_gets_a_token_for_each() {
    let app = app(|config| config).await;
    // Refresh tokens that cover every consented resource, as Entra's do (MSAL's model of one refresh
    // token), and access tokens that always need refreshing.
    let settings = msal_tests::IdpSettings::new()
        .refresh_tokens_cover_grant(true)
        .access_token_ttl(std::time::Duration::from_secs(1));
    app.idp.settings(settings).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    // The orders API was never consented to: the provider is asked for it alone (one resource per request).
    let page = browser.get(app.url("/dashboard")).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let scope = msal_tests::query_param(location(&page), "scope").unwrap();
    assert!(scope.contains("api://orders-api/Orders.Read") && !scope.contains("Mail.Read"), "{scope}");
    let response = browser.authorize(location(&page), "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/dashboard");
    app.idp.reset().await;

    // Each request now refreshes both tokens with the one refresh token, rotating it, and gets both.
    for _ in 0..2 {
        let page = browser.get(app.url("/dashboard")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let tokens: Value = page.json().await.unwrap();
        assert_eq!(tokens["mail"], json!({ "aud": "api://mail-api", "scope": "Mail.Read" }));
        assert_eq!(tokens["orders"], json!({ "aud": "api://orders-api", "scope": "api://orders-api/Orders.Read" }));
    }
    assert_eq!(app.idp.grants("refresh_token").await, 4);
    assert_eq!(app.idp.grant_errors().await, json!({}));
}

#[tokio::test]
async fn the_app_wide_scope_list_is_collected_at_link_time() {
    let app = app(|config| config.declared_scopes(["Mail.Read", "Mail.Send"])).await;
    // This program links mail-app too, whose handlers are listed as well.
    let listed = |krate: &str| -> Vec<String> {
        let handlers = msal_runtime::scoped_handlers();
        let of_crate = handlers.iter().filter(|handler| handler.module().split("::").next() == Some(krate));
        of_crate.map(|handler| format!("{}::{}", handler.module(), handler.name())).collect()
    };
    assert_eq!(
        listed("annotated_handlers"),
        [
            "annotated_handlers::compose",
            "annotated_handlers::dashboard",
            "annotated_handlers::dashboard",
            "annotated_handlers::read"
        ]
    );
    assert_eq!(
        listed("mail_app"),
        [
            "mail_app::compose::compose",
            "mail_app::compose::send",
            "mail_app::contacts::contacts",
            "mail_app::inbox::inbox",
            "mail_app::inbox::messages"
        ]
    );
    assert_eq!(
        msal_runtime::handler_scopes(),
        ScopeSet::parse("Mail.Read Mail.Send api://orders-api/Orders.Read").unwrap()
    );
    // The configured app does not declare the orders API: warned about at start-up.
    assert_eq!(*app.msal.undeclared_scopes(), ScopeSet::parse("api://orders-api/Orders.Read").unwrap());
    // Admin consent is an Entra endpoint; the test provider has none.
    assert_eq!(app.msal.admin_consent_url(), None);
}

#[tokio::test]
async fn every_handler_scope_can_be_asked_for_at_sign_in() {
    let app = app(|config| config.request_handler_scopes_at_sign_in(true)).await;
    let authorize = app.begin_sign_in(&Browser::new(), "/").await;
    let scope = msal_tests::query_param(&authorize, "scope").unwrap();
    for needed in ["openid", "profile", "offline_access", "Mail.Read", "Mail.Send", "api://orders-api/Orders.Read"] {
        assert!(scope.split(' ').any(|s| s == needed), "{needed} in {scope}");
    }
}
