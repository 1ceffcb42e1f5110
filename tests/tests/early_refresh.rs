//! Past `refresh_on` a cached token still serves at once, while one refresh runs in the background; a failed
//! background refresh leaves the token in service and is not retried at every request.

use std::time::Duration;

use futures::future::join_all;
use msal_runtime::HomeAccountId;
use msal_tests::{Browser, Fault, TestApp, app_reading_mail, cache_entries};
use reqwest::StatusCode;
use serde_json::Value;

/// Signs alice in, then moves her access token's `refresh_on` into the past (as time would), keeping it valid
/// for an hour: due for an early refresh, far from the 5-minute buffer. Returns her key and the token.
async fn signed_in_with_a_token_due_for_refresh(app: &TestApp, browser: &Browser) -> (HomeAccountId, String) {
    signed_in_with_a_due_token_for(app, browser, None).await
}

/// As [`signed_in_with_a_token_due_for_refresh`], the token's target replaced by `target` when given.
async fn signed_in_with_a_due_token_for(
    app: &TestApp,
    browser: &Browser,
    target: Option<&str>,
) -> (HomeAccountId, String) {
    app.sign_in(browser, "/", "alice").await;
    let account = app.account(browser).await;
    let cache = app.msal.token_cache();
    let mut json: Value = serde_json::from_str(&cache.export_msal_json(&account).await.unwrap().unwrap()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for entry in json["AccessToken"].as_object_mut().unwrap().values_mut() {
        entry["refresh_on"] = Value::String((now - 60).to_string());
        if let Some(target) = target {
            entry["target"] = Value::String(target.to_owned());
        }
        assert!(entry["expires_on"].as_str().unwrap().parse::<u64>().unwrap() > now + 3000);
    }
    cache.import_msal_json(&json.to_string()).await.unwrap();
    (account, access_token(app, browser).await)
}

/// The cached access token's secret.
async fn access_token(app: &TestApp, browser: &Browser) -> String {
    let tokens = app.cached_tokens(browser).await.unwrap();
    let access_tokens = cache_entries(&tokens, "AccessToken");
    assert_eq!(access_tokens.len(), 1);
    access_tokens[0]["secret"].as_str().unwrap().to_owned()
}

/// Waits (at most 20 s) until the provider has received `count` token requests.
async fn until_token_requests(app: &TestApp, count: u64) {
    for _ in 0..200 {
        if app.idp.requests("POST /token").await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the provider never received {count} token requests");
}

#[tokio::test]
async fn requests_past_refresh_on_are_answered_from_the_cache_while_one_refresh_runs_in_the_background() {
    answered_from_the_cache_while_one_refresh_runs_in_the_background(None).await;
}

#[tokio::test]
async fn a_token_with_too_many_scopes_for_the_fast_path_is_not_kept_waiting_for_its_refresh_either() {
    // Thirteen scopes: more than the cache's fast path holds ids for, so every lookup takes the full rules.
    let wide = (1..=12).map(|i| format!(" Wide.Scope{i}")).collect::<String>();
    answered_from_the_cache_while_one_refresh_runs_in_the_background(Some(&format!("Mail.Read{wide}"))).await;
}

/// Twenty requests for a token due for refresh (its target replaced by `target` when given) are all answered
/// while the one background refresh is still at the provider; then it lands.
async fn answered_from_the_cache_while_one_refresh_runs_in_the_background(target: Option<&str>) {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    let (_, cached) = signed_in_with_a_due_token_for(&app, &browser, target).await;
    let token_requests = app.idp.requests("POST /token").await;
    // The provider takes 5 s over the refresh: a request that waited for it could not come back before it lands.
    app.idp.fault(Fault::on("POST /token").delay(Duration::from_secs(5)).times(1)).await;

    let responses = join_all((0..20).map(|_| browser.get(app.url("/mail")))).await;
    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
    }
    // Every request has its answer, and the refresh has not landed: the cache still holds the token they used.
    assert_eq!(access_token(&app, &browser).await, cached, "the requests waited for the refresh");

    // Exactly one refresh, which replaces the token when it lands.
    until_token_requests(&app, token_requests + 1).await;
    let mut refreshed = cached.clone();
    for _ in 0..200 {
        refreshed = access_token(&app, &browser).await;
        if refreshed != cached {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(refreshed, cached, "the background refresh replaced the token");
    assert_eq!(app.idp.grants("refresh_token").await, 1, "one refresh for twenty requests");
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
    assert_eq!(app.idp.requests("POST /token").await, token_requests + 1, "the new token serves without refresh");
}

/// Signs in with a token due for refresh, makes the provider fail with `fault`, and shows that the first request
/// starts one background refresh (`attempts` provider requests: its retry included), that it fails, and that
/// neither that request nor the twenty after it see anything of it: the cached token stays in service, and the
/// provider is not asked again at every request.
async fn a_failed_background_refresh_is_invisible_and_not_repeated(fault: Fault, attempts: u64) {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    let (_, cached) = signed_in_with_a_token_due_for_refresh(&app, &browser).await;
    let token_requests = app.idp.requests("POST /token").await;
    app.idp.fault(fault).await;

    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
    until_token_requests(&app, token_requests + attempts).await;
    // No race with the failure being recorded: until the refresh has ended (after recording it), a request
    // joins it rather than starting another.
    for response in join_all((0..20).map(|_| browser.get(app.url("/mail")))).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(access_token(&app, &browser).await, cached, "the cached token stays in service");
    assert_eq!(app.idp.requests("POST /token").await, token_requests + attempts, "the provider is not asked again");
    assert_eq!(app.idp.grants("refresh_token").await, 0);
}

#[tokio::test]
async fn a_background_refresh_refused_with_retry_after_leaves_the_token_in_service_until_that_time() {
    let fault = Fault::on("POST /token").status(503).retry_after(Duration::from_secs(60)).times(10);
    // Retry-After beyond the 2 s a request may wait: no retry.
    a_failed_background_refresh_is_invisible_and_not_repeated(fault, 1).await;
}

#[tokio::test]
async fn a_background_refresh_failing_without_retry_after_leaves_the_token_in_service_and_pauses() {
    // A 5xx without Retry-After is retried once, then early refreshes pause for a minute.
    a_failed_background_refresh_is_invisible_and_not_repeated(Fault::on("POST /token").status(500).times(10), 2).await;
}
