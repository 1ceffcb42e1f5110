//! App-only tokens end to end: `Msal::acquire_token_for_app` with the daemon `mail-daemon`'s registration
//! (client credentials), against the real provider: concurrent requests make one provider call, the token is
//! cached (in MSAL's schema, as an app's: no user) until 5 minutes before it expires, then replaced, and the mail
//! API accepts it on its route for apps.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use msal_runtime::{AccessTokenFor, HomeAccountId, Msal, MsalConfig, RequiredScopes, ScopeSet, SignedInUser};
use msal_tests::{IdpSettings, TestApp, cache_entries, jwt_claims};
use serde_json::Value;
use tower::ServiceExt;

/// The provider and the mail API (through the harness's app), and a runtime with the daemon's registration,
/// which signs no one in.
async fn daemon() -> (TestApp, Msal) {
    let app = TestApp::start().await;
    let config = MsalConfig::builder()
        .authority(&app.idp.issuer)
        .client_id("mail-daemon")
        .client_secret("mail-daemon-secret")
        .without_sign_in()
        .token_cache("memory")
        .build()
        .unwrap();
    let msal = Msal::new(config).await.unwrap();
    (app, msal)
}

fn mail_api_default() -> ScopeSet {
    ScopeSet::parse("api://mail-api/.default").unwrap()
}

#[tokio::test]
async fn concurrent_requests_make_one_provider_call_and_the_token_is_cached() {
    let (app, msal) = daemon().await;
    let scopes = mail_api_default();
    let tokens = futures::future::join_all((0..16).map(|_| msal.acquire_token_for_app(&scopes))).await;
    let secrets: Vec<String> = tokens.into_iter().map(|token| token.unwrap().secret().to_owned()).collect();
    assert!(secrets.iter().all(|secret| *secret == secrets[0]));
    assert_eq!(app.idp.grants("client_credentials").await, 1, "one provider call for 16 requests");
    assert_eq!(msal.acquire_token_for_app(&scopes).await.unwrap().secret(), secrets[0]);
    assert_eq!(app.idp.grants("client_credentials").await, 1, "then the cache");

    let claims = jwt_claims(&secrets[0]);
    assert_eq!((&claims["aud"], &claims["roles"][0]), (&"api://mail-api".into(), &"Mail.Read.All".into()));
    let response = reqwest::Client::new()
        .get(app.mail_api.join("admin/mailboxes/count").unwrap())
        .bearer_auth(&secrets[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the mail API's route for apps takes it");

    // Cached as MSAL writes an app's token: no user, the request's scopes as target.
    let json = msal.token_cache().export_msal_json(&HomeAccountId::new("app-tokens")).await.unwrap().unwrap();
    let cached: Value = serde_json::from_str(&json).unwrap();
    let entries = cache_entries(&cached, "AccessToken");
    assert_eq!(entries.len(), 1);
    assert_eq!((&entries[0]["home_account_id"], &entries[0]["client_id"]), (&"".into(), &"mail-daemon".into()));
    assert_eq!(entries[0]["target"], "api://mail-api/.default");
}

#[tokio::test]
async fn the_token_serves_until_the_buffer_and_is_then_replaced() {
    let (app, msal) = daemon().await;
    // Tokens valid for 2 s beyond the 5-minute buffer.
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(302))).await;
    let scopes = mail_api_default();
    let first = msal.acquire_token_for_app(&scopes).await.unwrap();
    assert_eq!(msal.acquire_token_for_app(&scopes).await.unwrap().secret(), first.secret());
    assert_eq!(app.idp.grants("client_credentials").await, 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let second = msal.acquire_token_for_app(&scopes).await.unwrap();
    assert_ne!(second.secret(), first.secret(), "inside the buffer: replaced");
    assert_eq!(app.idp.grants("client_credentials").await, 2);
}

/// `Mail.Read`, for a handler that needs a signed-in user's token.
struct MailRead;
impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

#[tokio::test]
async fn a_runtime_without_sign_in_mounts_no_route_and_has_nobody_signed_in() {
    let (_app, msal) = daemon().await;
    assert_eq!(msal.admin_consent_url(), None);
    let router = Router::new()
        .route("/me", get(|user: SignedInUser| async move { user.subject().to_owned() }))
        .route("/mail", get(|_: AccessTokenFor<MailRead>| async { "never" }))
        .merge(msal.routes())
        .with_state(msal.clone());
    let status = |path: &'static str| {
        let router = router.clone();
        async move { router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status() }
    };
    assert_eq!(status("/auth/signin").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/auth/callback?code=c&state=s").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/auth/signout").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/me").await, StatusCode::UNAUTHORIZED);
    // A handler that needs a user's token cannot get one here: the app's mistake, said as such, with no
    // redirect to a provider that would refuse a redirect URI the app does not have.
    assert_eq!(status("/mail").await, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_refusal_is_the_apps_and_not_a_users() {
    let (app, _) = daemon().await;
    // `mail-app` may not use the client credentials grant at this provider.
    let config = MsalConfig::builder()
        .authority(&app.idp.issuer)
        .client_id("mail-app")
        .client_secret("mail-app-secret")
        .without_sign_in()
        .token_cache("memory")
        .build()
        .unwrap();
    let msal = Msal::new(config).await.unwrap();
    let error = msal.acquire_token_for_app(&mail_api_default()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            msal_runtime::error::TokenRequestError::Acquire(msal_runtime::error::AcquireError::Refused(_))
        ),
        "{error:?}"
    );
}
