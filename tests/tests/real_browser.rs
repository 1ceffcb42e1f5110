//! The mail app as a user sees it, in Debian's headless Chromium: the real provider's login and consent
//! pages, the real mail API, the app's pages and scripts. Screenshots of the main steps are saved in
//! `target/tmp/browser/` (the README's pictures come from there).

use std::path::PathBuf;

use msal_tests::TestApp;
use msal_tests::chromium::Chromium;

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

/// Goes through the provider's pages until the browser is back at the app: signs in as `login` when asked,
/// and accepts whatever the provider asks next (consent, the sign-out confirmation).
async fn through_provider(browser: &Chromium, app: &TestApp, login: &str) {
    for _ in 0..8 {
        let here = browser.url().await;
        if here.origin() == app.origin.origin() {
            return;
        }
        if browser.shows("input[name=login]").await {
            browser.fill("input[name=login]", login).await;
            browser.fill("input[name=password]", "any password").await;
            browser.click("button[type=submit]").await;
        } else {
            // The consent page's "Continue", or the sign-out page's "Yes, sign me out".
            browser.click("button[autofocus]").await;
        }
        browser
            .wait_until("the next page", |client| {
                let before = here.clone();
                async move { client.current_url().await.is_ok_and(|now| now != before) }
            })
            .await;
    }
    panic!("still at the provider after eight pages: {}\n{}", browser.url().await, browser.text().await);
}

#[tokio::test]
async fn a_user_signs_in_reads_and_sends_mail_answers_a_claims_challenge_and_signs_out() {
    let app = TestApp::start().await;
    let browser = Chromium::start(&screenshots()).await;

    // Signed out: the start page offers to sign in, and nothing else.
    browser.open(&app.url("/")).await;
    assert!(browser.shows("#sign-in").await && !browser.shows("#user").await);
    browser.screenshot("01-signed-out").await;

    // Sign in through the provider's login page; back on the start page, signed in.
    browser.click("#sign-in-start").await;
    browser.find("input[name=login]").await;
    browser.screenshot("02-provider-login").await;
    through_provider(&browser, &app, "alice").await;
    assert_eq!(browser.text_of("#user").await, "Alice Example");
    browser.screenshot("03-signed-in").await;

    // The inbox asks for Mail.Read first (incremental consent), then shows the (empty) inbox.
    browser.click("#open-inbox").await;
    browser.find("button[autofocus]").await;
    let consent = browser.text().await;
    assert!(consent.contains("Mail.Read"), "the provider asks for Mail.Read: {consent}");
    browser.screenshot("04-consent-mail-read").await;
    through_provider(&browser, &app, "alice").await;
    browser.find("#inbox").await;
    assert!(browser.shows("#empty").await, "a new user's inbox is empty");

    // Writing a message asks for Mail.Send; the message sent to oneself arrives.
    browser.click("#compose").await;
    browser.find("button[autofocus]").await;
    let consent = browser.text().await;
    assert!(consent.contains("Mail.Send"), "the provider asks for Mail.Send: {consent}");
    browser.screenshot("05-consent-mail-send").await;
    through_provider(&browser, &app, "alice").await;
    assert_eq!(browser.find("#to").await.prop("value").await.unwrap().as_deref(), Some("alice"));
    browser.fill("#subject", "Hello from Chromium").await;
    browser.fill("#body", "Sent through the mail API with a Mail.Send token.").await;
    browser.screenshot("06-compose").await;
    browser.click("#send").await;
    browser.wait_for_url(&app.url("/mail")).await;
    assert_eq!(browser.text_of("#inbox li .subject").await, "Hello from Chromium");
    browser.screenshot("07-inbox").await;

    // The mail API revokes alice's sessions: its next answer is a claims challenge, which the app answers by
    // sending her through the provider again, and the inbox loads with a token issued after the revocation.
    // (A token issued in the second of the revocation is not challenged: wait for the next one.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let authorizations_before = app.idp.requests("GET /auth").await;
    app.revoke_at_mail_api("alice").await;
    browser.open(&app.url("/mail")).await;
    through_provider(&browser, &app, "alice").await;
    assert_eq!(browser.url().await.as_str(), app.url("/mail"));
    assert_eq!(browser.text_of("#inbox li .subject").await, "Hello from Chromium");
    assert!(
        app.idp.requests("GET /auth").await > authorizations_before,
        "the claims challenge went through the provider"
    );

    // Sign out (confirmed at the provider): protected pages need a sign-in again.
    browser.click("#sign-out").await;
    through_provider(&browser, &app, "alice").await;
    browser.find("#sign-in").await;
    assert!(!browser.shows("#user").await);
    browser.open(&app.url("/mail")).await;
    browser.find("input[name=login]").await;
    browser.screenshot("08-signed-out-again").await;
    browser.close().await;
}

#[tokio::test]
async fn the_live_inbox_shows_a_consent_link_to_its_fetch_and_reads_mail_after_consent() {
    let app = TestApp::start().await;
    let browser = Chromium::start(&screenshots()).await;
    browser.open(&app.url("/auth/signin?return_url=/mail/live")).await;
    through_provider(&browser, &app, "bob").await;

    // The page's fetch() got 401 (no consent to Mail.Read yet): the page shows the consent link instead.
    browser.wait_for_url(&app.url("/mail/live")).await;
    browser
        .wait_until("the consent link", |client| async move {
            match client.find(fantoccini::Locator::Css("#consent")).await {
                Ok(notice) => notice.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            }
        })
        .await;
    let link = browser.find("#consent-link").await.attr("href").await.unwrap().unwrap_or_default();
    assert!(link.starts_with("/auth/signin?") && link.contains("Mail.Read"), "{link}");
    browser.screenshot("09-live-consent-needed").await;

    // After consenting, the browser comes back to the page, whose fetch() now reads the mail.
    browser.click("#consent-link").await;
    through_provider(&browser, &app, "bob").await;
    assert_eq!(browser.url().await.as_str(), app.url("/mail/live"));
    browser
        .wait_until("the inbox read by fetch()", |client| async move {
            match client.find(fantoccini::Locator::Css("#status")).await {
                Ok(status) => status.text().await.is_ok_and(|text| text == "No messages."),
                Err(_) => false,
            }
        })
        .await;
    assert!(!browser.shows("#consent").await, "no consent link once consented");
    browser.screenshot("10-live-inbox").await;
    browser.close().await;
}
