//! Silent token acquisition against the real provider: cache hits, one coalesced refresh with rotating
//! refresh tokens, provider outages, throttling, and users kept apart.

use std::time::Duration;

use futures::future::join_all;
use msal_runtime::ScopeSet;
use msal_runtime::error::AcquireError;
use msal_tests::{Browser, Fault, IdpSettings, TestApp, app_reading_mail, cache_entries, form_fields, jwt_claims};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_second_request_within_the_tokens_life_makes_no_provider_call() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let token_requests = app.idp.requests("POST /token").await;

    for _ in 0..2 {
        let inbox = browser.get(app.url("/mail")).await;
        assert_eq!(inbox.status(), StatusCode::OK);
        assert!(inbox.text().await.unwrap().contains("No messages"));
    }
    assert_eq!(app.idp.requests("POST /token").await, token_requests, "both served from the cache");
}

#[tokio::test]
async fn thirty_concurrent_requests_with_expiring_tokens_make_one_refresh_and_keep_the_grant() {
    let app = app_reading_mail().await;
    // Sign in with an access token that expires inside the 5-minute buffer; refreshes give long-lived ones.
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120)).rotate_refresh_token(true)).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(3600))).await;
    let first_refresh_token =
        cache_entries(&app.cached_tokens(&browser).await.unwrap(), "RefreshToken")[0]["secret"].clone();

    let responses = join_all((0..30).map(|_| browser.get(app.url("/mail")))).await;

    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.idp.grants("refresh_token").await, 1, "one refresh served all thirty");
    assert_eq!(app.idp.grant_errors().await, json!({}));

    // The refresh token was rotated and the new one stored: it still works at the provider, so the grant
    // was not revoked by a reused refresh token.
    let tokens = app.cached_tokens(&browser).await.unwrap();
    let refresh_token = cache_entries(&tokens, "RefreshToken")[0]["secret"].as_str().unwrap().to_owned();
    assert_ne!(json!(refresh_token), first_refresh_token, "rotated");
    let (works, answer) = app.idp.refresh_token_works(&refresh_token).await;
    assert!(works, "{answer}");
}

#[tokio::test]
async fn a_provider_outage_during_refresh_serves_the_still_valid_token() {
    let app = app_reading_mail().await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    app.idp.fault(Fault::on("POST /token").status(503).retry_after(Duration::from_secs(1)).times(2)).await;

    // The cached token is inside the 5-minute buffer but not expired: better than an error page.
    let inbox = browser.get(app.url("/mail")).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    assert_eq!(app.idp.requests("POST /token").await, 3, "the code, a refresh and its one retry");
}

#[tokio::test]
async fn a_provider_outage_without_a_valid_token_is_a_clear_error_then_service_resumes() {
    let app = app_reading_mail().await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(1))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(3600))).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.idp.fault(Fault::on("POST /token").status(503).retry_after(Duration::from_secs(1)).times(2)).await;

    let page = browser.get(app.url("/mail")).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers()["retry-after"], "1");
    assert!(page.text().await.unwrap().contains("The identity provider is unavailable"));

    // Within Retry-After the provider is not asked again.
    let refreshes = app.idp.requests("POST /token").await;
    let again = browser.get(app.url("/mail")).await;
    assert_eq!(again.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.idp.requests("POST /token").await, refreshes);

    // Once the provider is back and Retry-After has passed, service is normal.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_missing_consent_is_not_asked_of_the_provider_again_and_again() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let before = app.idp.requests("POST /token").await;
    let account = app.account(&browser).await;
    let mail_send = ScopeSet::parse("Mail.Send").unwrap();

    for _ in 0..3 {
        let error = app.msal.acquire_token_silent(&account, &mail_send).await.unwrap_err();
        assert!(matches!(error, AcquireError::InteractionRequired(_)), "{error}");
    }
    assert_eq!(app.idp.requests("POST /token").await, before + 1, "asked once, then remembered");
}

#[tokio::test]
async fn concurrent_users_never_see_each_others_tokens() {
    let app = app_reading_mail().await;
    let users = ["alice", "bob", "carol"];
    let browsers: Vec<Browser> = users.iter().map(|_| Browser::new()).collect();
    for (user, browser) in users.iter().zip(&browsers) {
        app.sign_in(browser, "/", user).await;
        // Each consents to Mail.Send through the compose page once.
        let authorize = msal_tests::location(&browser.get(app.url("/mail/compose")).await).to_owned();
        let response = browser.authorize(&authorize, user, &app.origin).await;
        browser.deliver(&response).await;
    }

    // Everyone writes to themselves and reads their inbox, all at once, many times.
    let mut rounds = Vec::new();
    for round in 0..5 {
        for (user, browser) in users.iter().zip(&browsers) {
            let app = &app;
            rounds.push(async move {
                let form = form_fields(&[("to", *user), ("subject", &format!("{user}-{round}")), ("body", "hi")]);
                let sent = browser.post_form(app.url("/mail/send"), &form, &[]).await;
                assert_eq!(sent.status(), StatusCode::SEE_OTHER, "{user}");
                let inbox = browser.get(app.url("/mail")).await.text().await.unwrap();
                (user.to_string(), inbox)
            });
        }
    }
    for (user, inbox) in join_all(rounds).await {
        assert!(inbox.contains(&format!("{user}-")), "{user} sees their own mail");
        for other in users.iter().filter(|other| **other != user) {
            assert!(!inbox.contains(&format!("{other}-")), "{user} sees {other}'s mail");
        }
    }

    // Each partition holds only its user's tokens.
    for (user, browser) in users.iter().zip(&browsers) {
        let tokens = app.cached_tokens(browser).await.unwrap();
        for access_token in cache_entries(&tokens, "AccessToken") {
            let secret = access_token["secret"].as_str().unwrap();
            if secret.contains('.') {
                assert_eq!(jwt_claims(secret)["sub"], *user);
            }
        }
    }
}

#[tokio::test]
async fn an_oversized_provider_response_is_refused_not_read_whole() {
    let app = app_reading_mail().await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(1))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // 2 MiB from the token endpoint, twice (the refresh and its retry would both get it).
    app.idp.fault(Fault::on("POST /token").padded_body(2 * 1024 * 1024).times(2)).await;

    let page = browser.get(app.url("/mail")).await;
    assert_eq!(
        page.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "an unusable answer, shown as the provider being unavailable"
    );
    assert!(app.me(&browser).await.is_ok(), "still signed in");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_given_up_on_after_the_timeout() {
    let app =
        TestApp::start_with(|config| config.initial_scopes(["Mail.Read"]).http_timeout(Duration::from_secs(1))).await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(1))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The provider stalls for 30 s; with a 1 s timeout the request must come back long before.
    app.idp.fault(Fault::on("POST /token").delay(Duration::from_secs(30)).times(1)).await;

    let started = std::time::Instant::now();
    let page = browser.get(app.url("/mail")).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the request waited for the provider: {:?}",
        started.elapsed()
    );
    assert_eq!(app.idp.requests("POST /token").await, 2, "a timeout is not retried (the refresh token may be spent)");
}
