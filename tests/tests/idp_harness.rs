//! The harness's hold on the provider: a typed setting reaches the tokens the provider issues, and a misspelled
//! or mistyped key is refused, so that it fails the test that sent it instead of silently changing nothing.

use std::time::Duration;

use msal_tests::{AppListener, Browser, Fault, IdpSettings, TestApp, app_reading_mail, cache_entries, jwt_claims};
use reqwest::StatusCode;
use serde_json::json;

/// Signs `login` in and returns the lifetime, in seconds, the provider wrote into their access token.
async fn access_token_lifetime_at_sign_in(app: &TestApp, login: &str) -> u64 {
    let browser = Browser::new();
    app.sign_in(&browser, "/", login).await;
    let tokens = app.cached_tokens(&browser).await.unwrap();
    let access_tokens = cache_entries(&tokens, "AccessToken");
    assert_eq!(access_tokens.len(), 1, "{tokens}");
    let claims = jwt_claims(access_tokens[0]["secret"].as_str().unwrap());
    claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap()
}

#[tokio::test]
async fn a_typed_access_token_lifetime_reaches_the_tokens_the_provider_issues() {
    let app = app_reading_mail().await;
    assert_eq!(access_token_lifetime_at_sign_in(&app, "alice").await, 3600, "the provider's default");

    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120))).await;
    assert_eq!(access_token_lifetime_at_sign_in(&app, "bob").await, 120);
}

#[tokio::test]
async fn a_misspelled_setting_is_refused_and_nothing_of_its_request_applies() {
    let app = app_reading_mail().await;

    let (status, answer) =
        app.idp.post_unchecked("settings", json!({ "accessTokenTtl": 120, "hiddenKid": ["rsa-1"] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["unknownKeys"], json!(["hiddenKid"]));
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("unknown key \"hiddenKid\"") && error.contains("hiddenKids"), "{error}");

    // The well-spelled key of the refused request did not apply either.
    assert_eq!(access_token_lifetime_at_sign_in(&app, "alice").await, 3600);
}

#[tokio::test]
async fn settings_and_faults_of_the_wrong_type_or_with_unknown_keys_are_refused() {
    let idp = AppListener::bind().await.start_idp().await;

    let (status, answer) = idp.post_unchecked("settings", json!({ "accessTokenTtl": "120" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["invalidKeys"], json!(["accessTokenTtl"]));
    assert!(answer["error"].as_str().unwrap().contains("\"accessTokenTtl\" must be whole seconds"), "{answer}");

    let (status, answer) = idp.post_unchecked("settings", json!({ "rotateRefreshToken": "false" })).await;
    assert_eq!((status, &answer["invalidKeys"]), (StatusCode::BAD_REQUEST, &json!(["rotateRefreshToken"])));

    let (status, answer) = idp.post_unchecked("faults", json!({ "route": "POST /token", "status": "503" })).await;
    assert_eq!((status, &answer["invalidKeys"]), (StatusCode::BAD_REQUEST, &json!(["status"])));

    let fault = json!({ "route": "POST /token", "status": 503, "retryAfer": 1 });
    let (status, answer) = idp.post_unchecked("faults", fault).await;
    assert_eq!((status, &answer["unknownKeys"]), (StatusCode::BAD_REQUEST, &json!(["retryAfer"])));

    let (status, answer) = idp.post_unchecked("faults", json!({ "status": 503 })).await;
    assert_eq!((status, &answer["missingKeys"]), (StatusCode::BAD_REQUEST, &json!(["route"])));

    // None of the refused faults was installed: the token endpoint answers as the provider.
    let token = reqwest::Client::new().post(format!("{}/token", idp.issuer)).send().await.unwrap();
    assert_eq!(token.status(), StatusCode::BAD_REQUEST, "the provider's own refusal, not an injected 503");
    assert_eq!(idp.requests("POST /token").await, 1);
}

#[tokio::test]
#[should_panic(expected = "fault refused: it does nothing without")]
async fn a_fault_that_would_do_nothing_fails_the_test_with_the_providers_reason() {
    let idp = AppListener::bind().await.start_idp().await;
    idp.fault(Fault::on("POST /token").times(2)).await;
}
