//! The testing feature through a router, as an app's tests use it: each test fails if `TestMsal` stops
//! giving the runtime's real answer for its case.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::response::Response;
use axum::routing::get;
use http::header::{ACCEPT, COOKIE, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE};
use http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::extract::access_token_for::AccessTokenFor;
use crate::extract::signed_in_user::SignedInUser;
use crate::scope::required::RequiredScopes;

struct MailRead;
impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

async fn me(user: SignedInUser) -> String {
    format!("{} {} {}", user.name().unwrap_or("-"), user.username(), user.home_account_id().as_str())
}

async fn mail(token: AccessTokenFor<MailRead>) -> String {
    token.secret().to_owned()
}

fn app(test: &TestMsal) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/mail", get(mail))
        .merge(test.msal().routes())
        .with_state(test.msal().clone())
}

async fn send(app: &Router, request: http::request::Builder) -> Response {
    app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
}

async fn text(response: Response) -> String {
    String::from_utf8(to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

/// The query parameters of a redirect to the in-memory provider's authorize URL.
fn authorize_query(test: &TestMsal, response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    let endpoint = test.authorization_endpoint();
    assert_eq!((location.origin(), location.path()), (endpoint.origin(), endpoint.path()), "{location}");
    location.query_pairs().into_owned().collect()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

fn alice() -> TestUser {
    TestUser::new("alice").name("Alice Example").username("alice@contoso.test")
}

#[tokio::test]
async fn a_signed_in_user_reaches_handlers_with_the_token_given() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();
    test.give_token(&alice(), "Mail.Read", "chosen-token.for-mail").await.unwrap();

    let response = send(&app, Request::get("/me").header(COOKIE, cookie.header_value())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let home = test.home_account_id(&alice()).unwrap();
    assert_eq!(text(response).await, format!("Alice Example alice@contoso.test {}", home.as_str()));
    assert!(home.as_str().starts_with("alice."), "{home:?}");

    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.as_str())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "chosen-token.for-mail");

    // Without the cookie, nobody is signed in.
    assert_eq!(send(&app, Request::get("/me")).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tokens_are_per_user_and_given_tokens_replace_earlier_ones() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let bob = TestUser::new("bob");
    // Given before signing in: tokens belong to the user, not to a session.
    test.give_token(&bob, "Mail.Read", "bobs-token").await.unwrap();
    let alice_cookie = test.sign_in(&alice()).await.unwrap();
    let bob_cookie = test.sign_in(&bob).await.unwrap();
    test.give_token(&alice(), "Mail.Read", "alices-first").await.unwrap();
    test.give_token(&alice(), "Mail.Read Mail.Send", "alices-second").await.unwrap();

    let response = send(&app, Request::get("/mail").header(COOKIE, alice_cookie.header_value())).await;
    assert_eq!(text(response).await, "alices-second");
    let response = send(&app, Request::get("/mail").header(COOKIE, bob_cookie.header_value())).await;
    assert_eq!(text(response).await, "bobs-token");
}

#[tokio::test]
async fn a_token_not_given_is_asked_for_by_a_page_load_and_by_a_fetch() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();

    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.header_value())).await;
    let query = authorize_query(&test, &response);
    assert!(param(&query, "scope").unwrap().split(' ').any(|scope| scope == "Mail.Read"), "{query:?}");
    assert_eq!(param(&query, "login_hint"), Some("alice@contoso.test"));
    assert_eq!(param(&query, "client_id"), Some(CLIENT_ID));
    assert_eq!(param(&query, "code_challenge_method"), Some("S256"));
    assert!(response.headers().contains_key(SET_COOKIE), "the sign-in is sealed in a cookie");

    let fetch = Request::get("/mail").header(COOKIE, cookie.header_value()).header(ACCEPT, "application/json");
    let response = send(&app, fetch).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(body["error"], "interaction_required");
    let consent_url = body["consent_url"].as_str().unwrap();
    assert!(consent_url.starts_with("/auth/signin?") && consent_url.contains("Mail.Read"), "{consent_url}");
}

#[tokio::test]
async fn a_chosen_consent_failure_overrides_an_earlier_one() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();
    test.fail(&alice(), "Mail.Read", TestFailure::ProviderDown).unwrap();
    test.fail(&alice(), "Mail.Read", TestFailure::ConsentRequired).unwrap();
    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.header_value())).await;
    let query = authorize_query(&test, &response);
    assert!(param(&query, "claims").is_none(), "{query:?}");
}

#[tokio::test]
async fn a_claims_challenge_of_the_provider_sends_the_user_back_with_the_claims() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    // A token about to expire: the refresh meets the challenge.
    test.give(&alice(), TestToken::new("Mail.Read", "expiring").expires_in(Duration::from_secs(60))).await.unwrap();
    test.fail(&alice(), "Mail.Read", TestFailure::ClaimsChallenge(claims.to_owned())).unwrap();

    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.header_value())).await;
    let query = authorize_query(&test, &response);
    assert_eq!(param(&query, "claims"), Some(claims));
    assert!(param(&query, "scope").unwrap().contains("Mail.Read"), "{query:?}");
}

#[tokio::test]
async fn with_the_provider_down_a_valid_token_serves_and_an_expired_one_gets_503() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();
    test.fail(&alice(), "Mail.Read", TestFailure::ProviderDown).unwrap();

    // Inside the 5-minute buffer, so the runtime refreshes; the provider is down; the token still serves.
    test.give(&alice(), TestToken::new("Mail.Read", "near-expiry").expires_in(Duration::from_secs(120))).await.unwrap();
    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.header_value())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "near-expiry");

    test.give(&alice(), TestToken::new("Mail.Read", "expired").expires_in(Duration::ZERO)).await.unwrap();
    let response = send(&app, Request::get("/mail").header(COOKIE, cookie.header_value())).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(RETRY_AFTER));
}

#[tokio::test]
async fn signing_out_ends_the_session_at_the_provider_too() {
    let test = TestMsal::new().await.unwrap();
    let app = app(&test);
    let cookie = test.sign_in(&alice()).await.unwrap();
    test.give_token(&alice(), "Mail.Read", "t").await.unwrap();

    let sign_out =
        Request::post(crate::SIGN_OUT_PATH).header(COOKIE, cookie.header_value()).header(ORIGIN, "http://localhost");
    let response = send(&app, sign_out).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), test.end_session_endpoint().path());
    assert!(location.query_pairs().any(|(name, _)| name == "id_token_hint"), "{location}");

    assert_eq!(
        send(&app, Request::get("/me").header(COOKIE, cookie.header_value())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let home = test.home_account_id(&alice()).unwrap();
    assert!(!test.msal().token_cache().contains_account(&home).await.unwrap());
}

#[tokio::test]
async fn refuses_what_a_real_provider_could_not_send() {
    let test = TestMsal::new().await.unwrap();
    let user = alice();
    assert!(matches!(test.give_token(&user, "Mail\"Read", "t").await, Err(TestingError::Scopes { .. })));
    assert!(matches!(test.give_token(&user, "openid profile", "t").await, Err(TestingError::NoResourceScope { .. })));
    assert!(matches!(test.give_token(&user, "Mail.Read", "").await, Err(TestingError::MalformedToken)));
    assert!(matches!(test.give_token(&user, "Mail.Read", "a b").await, Err(TestingError::MalformedToken)));
    assert!(matches!(test.sign_in(&TestUser::new("")).await, Err(TestingError::InvalidSubject { .. })));
    assert!(matches!(test.sign_in(&TestUser::new("é")).await, Err(TestingError::InvalidSubject { .. })));
    assert!(matches!(test.fail(&user, "", TestFailure::ProviderDown), Err(TestingError::NoResourceScope { .. })));
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let test = TestMsal::new().await.unwrap();
    let cookie = test.sign_in(&alice()).await.unwrap();
    let value = cookie.as_str().split_once('=').unwrap().1.to_owned();
    let debug = format!("{cookie:?} {:?}", TestToken::new("Mail.Read", "the-secret-token"));
    assert!(!debug.contains(&value) && !debug.contains("the-secret-token"), "{debug}");
    assert!(debug.contains(cookie.name()), "{debug}");
    assert!(cookie.header_value().is_sensitive());
}

#[tokio::test]
async fn each_test_msal_has_its_own_sessions() {
    let first = TestMsal::new().await.unwrap();
    let second = TestMsal::new().await.unwrap();
    let cookie = first.sign_in(&alice()).await.unwrap();
    let response = send(&app(&second), Request::get("/me").header(COOKIE, cookie.header_value())).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_protected_api_of_the_test_accepts_the_tokens_it_signs_for_its_audience_only() {
    let test = TestMsal::new().await.unwrap();
    let alice = TestUser::new("alice").name("Alice Example").username("alice@contoso.test");
    let api = test.protected_api(&["api://mail-api"]).unwrap();

    let token = test.access_token(&alice, "Mail.Read Mail.Send", "api://mail-api").unwrap();
    let caller = api.validate(&token).await.unwrap();
    assert_eq!(caller.subject(), "alice");
    assert_eq!(caller.scopes(), &ScopeSet::parse("Mail.Read Mail.Send").unwrap());
    assert_eq!(caller.username(), Some("alice@contoso.test"));
    assert_eq!(caller.client_id(), Some(CLIENT_ID));

    // Another API's token, and the token's signature broken: refused as a real provider's would be.
    let other = test.access_token(&alice, "Mail.Read", "api://other").unwrap();
    assert_eq!(api.validate(&other).await.unwrap_err(), crate::error::BearerError::Audience);
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert_eq!(api.validate(&forged).await.unwrap_err(), crate::error::BearerError::Signature);
}
