//! Incremental consent and re-authentication: what "interaction required" becomes for a page load, a
//! `fetch()` and a form POST, and a lost cache partition that never sends the user round in a loop.

use std::time::Duration;

use msal_tests::{Browser, IdpSettings, app_reading_mail, cache_entries, form_fields, location, query_param};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_page_load_without_consent_goes_to_the_provider_and_comes_back_with_the_scope() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let page =
        browser.get_with(app.url("/mail/compose"), &[("sec-fetch-mode", "navigate"), ("accept", "text/html")]).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert!(authorize.starts_with(&format!("{}/auth?", app.idp.issuer)), "{authorize}");
    let scopes = query_param(&authorize, "scope").unwrap();
    assert!(scopes.split(' ').any(|s| s == "Mail.Send"), "{scopes}");
    for reserved in ["openid", "profile", "offline_access"] {
        assert!(scopes.split(' ').any(|s| s == reserved), "{scopes}");
    }
    assert_eq!(query_param(&authorize, "login_hint").as_deref(), Some("alice@example.test"));
    assert_eq!(query_param(&authorize, "code_challenge_method").as_deref(), Some("S256"));
    assert!(query_param(&authorize, "state").is_some());

    // The provider asks for consent to Mail.Send only, then the browser is back on the page.
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!((callback.status(), location(&callback)), (StatusCode::SEE_OTHER, "/mail/compose"));
    let compose = browser.get(app.url("/mail/compose")).await;
    assert_eq!(compose.status(), StatusCode::OK);
    assert!(compose.text().await.unwrap().contains("<form"));

    let tokens = app.cached_tokens(&browser).await.unwrap();
    let access_tokens = cache_entries(&tokens, "AccessToken");
    assert!(access_tokens.iter().any(|at| at["target"].as_str().unwrap().contains("Mail.Send")), "{tokens}");
    // The Mail.Send token works at the mail API, which checks the scope.
    let form = form_fields(&[("to", "alice"), ("subject", "consented"), ("body", "it works")]);
    let sent = browser.post_form(app.url("/mail/send"), &form, &[]).await;
    assert_eq!((sent.status(), location(&sent)), (StatusCode::SEE_OTHER, "/mail"));
    assert!(browser.get(app.url("/mail")).await.text().await.unwrap().contains("consented"));
}

#[tokio::test]
async fn a_fetch_without_consent_gets_a_401_with_a_consent_url() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let referer = app.url("/mail?folder=inbox");
    let answer = browser
        .get_with(
            app.url("/mail/compose"),
            &[("sec-fetch-mode", "cors"), ("accept", "application/json"), ("referer", &referer)],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert!(answer.headers().get("location").is_none(), "never a redirect");
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer error=\"interaction_required\", scope=\"Mail.Send\""), "{challenge}");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "interaction_required");
    assert_eq!(body["scopes"], serde_json::json!(["Mail.Send"]));
    let consent_url = body["consent_url"].as_str().unwrap();
    assert!(consent_url.starts_with("/auth/signin?"), "same origin: {consent_url}");

    // The page sends the window there; after consent it is back where the fetch came from.
    // It asks again for Mail.Read too: on this standard provider the new refresh token must keep it.
    assert_eq!(query_param(&format!("http://x{consent_url}"), "scope").as_deref(), Some("Mail.Read Mail.Send"));
    let start = browser.get(app.url(consent_url)).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start).to_owned();
    assert!(query_param(&authorize, "scope").unwrap().contains("Mail.Send"));
    assert_eq!(query_param(&authorize, "login_hint").as_deref(), Some("alice@example.test"));
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!(location(&callback), "/mail?folder=inbox");
    let retried = browser.get_with(app.url("/mail/compose"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(retried.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_post_without_consent_comes_back_to_its_form_page() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let form = form_fields(&[("to", "bob"), ("subject", "hello"), ("body", "text")]);
    let referer = app.url("/mail/compose");
    let posted =
        browser.post_form(app.url("/mail/send"), &form, &[("sec-fetch-mode", "navigate"), ("referer", &referer)]).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "303: the browser must not re-POST to the provider");
    let authorize = location(&posted).to_owned();
    assert!(authorize.starts_with(&app.idp.issuer));
    assert!(query_param(&authorize, "scope").unwrap().contains("Mail.Send"));

    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!(location(&callback), "/mail/compose", "back to the form page");
}

#[tokio::test]
async fn a_page_load_when_signed_out_signs_in_and_comes_back() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    let page = browser.get(app.url("/mail")).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert_eq!(query_param(&authorize, "login_hint"), None);
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/mail");
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);

    let fetch = Browser::new().get_with(app.url("/mail"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(fetch.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fetch.json::<Value>().await.unwrap()["error"], "sign_in_required");
}

#[tokio::test]
async fn a_session_whose_tokens_are_gone_reauthenticates_without_a_loop() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let account = app.account(&browser).await;

    // The cache forgot the user (a restart, an eviction) while the session lives on.
    app.msal.token_cache().remove_account(&account).await.unwrap();
    let page = browser.get(app.url("/mail")).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert_eq!(query_param(&authorize, "login_hint").as_deref(), Some("alice@example.test"));
    // The provider still knows the user: no password, no consent, straight back.
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/mail");
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK);

    // Lost again right after re-authenticating: an explanation, not another round trip.
    app.msal.token_cache().remove_account(&account).await.unwrap();
    let page = browser.get(app.url("/mail")).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().get("location").is_none());
    assert!(page.text().await.unwrap().contains("could not keep your sign-in"));

    // Sign-out clears the partition.
    let signed_out = browser.get(app.url("/auth/signout")).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert!(!app.msal.token_cache().contains_account(&account).await.unwrap());
}

#[tokio::test]
async fn declining_consent_shows_a_page_and_no_loop() {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let page = browser.get(app.url("/mail/compose")).await;
    let response = browser.authorize_and_cancel(location(&page), &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!(callback.status(), StatusCode::FORBIDDEN);
    assert!(app.me(&browser).await.is_ok(), "still signed in: declining consent is not signing out");
}

#[tokio::test]
async fn on_a_standard_provider_consent_keeps_the_scopes_already_granted() {
    let app = app_reading_mail().await;
    // Refresh tokens cover their own authorization request (standard OAuth); access tokens always need
    // refreshing, so every page below goes through the refresh token.
    app.idp
        .settings(IdpSettings::new().refresh_tokens_cover_grant(false).access_token_ttl(Duration::from_secs(1)))
        .await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let page = browser.get(app.url("/mail/compose")).await;
    let authorize = location(&page).to_owned();
    let scopes = query_param(&authorize, "scope").unwrap();
    let scopes: Vec<&str> = scopes.split(' ').collect();
    assert!(scopes.contains(&"Mail.Send"), "{scopes:?}");
    assert!(scopes.contains(&"Mail.Read"), "asked again, so that the new refresh token keeps it: {scopes:?}");
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/mail/compose");

    app.idp.reset().await;
    for path in ["/mail", "/mail/compose", "/mail", "/mail/compose"] {
        assert_eq!(browser.get(app.url(path)).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(app.idp.requests("GET /auth").await, 0, "no further trip through the provider");
    assert_eq!(app.idp.grant_errors().await, serde_json::json!({}));
}
