//! Cookies carry no token, the sign-in cookie is gone once the sign-in completes, and sign-out ends the
//! session, the cached tokens and the provider's session.

use msal_runtime::HomeAccountId;
use msal_tests::{Browser, TestApp, location, set_cookies};
use reqwest::StatusCode;

#[tokio::test]
async fn cookies_are_http_only_lax_opaque_and_no_token_reaches_the_browser() {
    let app = TestApp::start().await;
    let browser = Browser::new();

    let start = browser.get(app.url("/auth/signin?return_url=/")).await;
    let mut cookies = set_cookies(&start);
    assert_eq!(start.headers()["cache-control"], "no-store");
    let response = browser.authorize(location(&start), "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!(callback.headers()["referrer-policy"], "no-referrer");
    cookies.extend(set_cookies(&callback));
    let callback_body = format!("{:?}", callback.headers()) + &callback.text().await.unwrap();

    // The sign-in cookie, and the session cookie; the callback also deletes the sign-in cookie (it has served).
    let stored: Vec<&String> = cookies.iter().filter(|cookie| !cookie.contains("Max-Age=0")).collect();
    assert_eq!(stored.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
        // Plain-http loopback: `Secure` (and the `__Host-` prefix) would make browsers drop the cookie.
        assert!(!cookie.contains("Secure") && !cookie.contains("Domain"), "{cookie}");
    }

    // Every token the provider issued stays in the server-side cache.
    let me = app.me(&browser).await.unwrap();
    let home = browser.get(app.url("/")).await.text().await.unwrap();
    let hid = cached_account(&app, &me).await;
    let json: serde_json::Value =
        serde_json::from_str(&app.msal.token_cache().export_msal_json(&hid).await.unwrap().unwrap()).unwrap();
    let secrets = secrets_of(&json);
    assert_eq!(secrets.len(), 3, "access, refresh and ID token are cached: {json}");
    let seen_by_browser = format!("{cookies:?} {callback_body} {me} {home}");
    for secret in &secrets {
        assert!(!seen_by_browser.contains(secret.as_str()), "a token reached the browser");
        let fragment = &secret[secret.len() / 2..secret.len() / 2 + 16.min(secret.len() / 2)];
        assert!(!seen_by_browser.contains(fragment), "part of a token reached the browser");
    }
}

#[tokio::test]
async fn after_the_callback_the_browser_sends_only_the_session_cookie() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    let authorize = app.begin_sign_in(&browser, "/").await;
    // While the sign-in is in progress, the browser holds its sign-in cookie, sealed with what the callback
    // needs (state, nonce, PKCE verifier, return URL, scopes)...
    let during = browser.cookie_header(&app.origin).expect("the sign-in cookie");
    assert_eq!(app_cookies(&during), ["msal_signin_"], "{during}");
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    let callback = browser.deliver(&response).await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);

    // ...and from the callback on, only its session cookie: the callback deleted the sign-in cookie, which
    // would otherwise ride along with every request until it expires.
    let after = browser.cookie_header(&app.origin).expect("the session cookie");
    assert_eq!(app_cookies(&after), ["msal_session"], "{after}");
    // The session id (43 characters) sealed: nonce, ciphertext and tag in 96 base64 characters, its `=` and
    // any `/` percent-encoded (3 bytes each).
    let session = after.split("; ").find(|pair| pair.starts_with("msal_session=")).unwrap();
    let value = session.strip_prefix("msal_session=").unwrap();
    assert_eq!(value.len(), 96 + 2 * value.matches('%').count(), "{session}");
    println!(
        "the app's cookies in the Cookie header: {} bytes after the sign-in, {} bytes during it; the whole \
         header after: {} bytes (with the provider's cookies, as it shares the host)",
        session.len(),
        during.split("; ").filter(|pair| pair.starts_with("msal_")).map(str::len).sum::<usize>(),
        after.len(),
    );
    assert!(app.me(&browser).await.is_ok(), "the session cookie alone signs the browser in");
}

/// The names of the app's cookies in a `Cookie` header (a sign-in cookie's without its transaction id). The
/// others can only be the provider's session cookies: the test provider runs on the app's host (127.0.0.1),
/// and cookies are not kept apart by port (RFC 6265 §8.5).
fn app_cookies(header: &str) -> Vec<&str> {
    let names = header.split("; ").map(|pair| pair.split('=').next().unwrap());
    let (app, others): (Vec<&str>, Vec<&str>) = names.partition(|name| name.starts_with("msal_"));
    assert!(others.iter().all(|name| name.starts_with("_session")), "{header}");
    app.into_iter().map(|name| if name.starts_with("msal_signin_") { "msal_signin_" } else { name }).collect()
}

/// Every `"secret"` value of an MSAL cache JSON.
fn secrets_of(json: &serde_json::Value) -> Vec<String> {
    let mut secrets = Vec::new();
    for section in json.as_object().unwrap().values() {
        for entry in section.as_object().unwrap().values() {
            if let Some(secret) = entry["secret"].as_str() {
                secrets.push(secret.to_owned());
            }
        }
    }
    secrets
}

/// The signed-in user's cache key, as `/me` shows it; their tokens must be in the cache.
async fn cached_account(app: &TestApp, me: &serde_json::Value) -> HomeAccountId {
    let hid = HomeAccountId::new(me["home_account_id"].as_str().unwrap());
    assert!(app.msal.token_cache().contains_account(&hid).await.unwrap());
    hid
}

#[tokio::test]
async fn sign_out_ends_the_session_clears_the_tokens_and_ends_the_provider_session() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let me = app.me(&browser).await.unwrap();
    let hid = cached_account(&app, &me).await;

    let answer = browser
        .post_form(app.url("/auth/signout"), &[], &[("Origin", app.origin.as_str().trim_end_matches('/'))])
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let end_session = location(&answer).to_owned();
    assert!(end_session.starts_with(&format!("{}/session/end?id_token_hint=", app.idp.issuer)), "{end_session}");
    assert!(set_cookies(&answer).iter().any(|c| c.starts_with("msal_session=;") && c.contains("Max-Age=0")));

    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    assert!(!app.msal.token_cache().contains_account(&hid).await.unwrap(), "the user's tokens are gone");
    assert_eq!(app.msal.token_cache().account_count().await.unwrap(), 0);

    // RP-initiated logout at the provider returns to the app...
    let back = browser.confirm_provider_logout(&end_session).await;
    assert_eq!(back.as_str(), app.origin.as_str());
    // ...and the provider's session is over: the next sign-in asks for the password again.
    let authorize = app.begin_sign_in(&browser, "/").await;
    let interaction = browser.get(&authorize).await;
    let login_page = browser.get(app.idp.issuer.clone() + location(&interaction)).await.text().await.unwrap();
    assert!(login_page.contains("name=\"login\""), "{login_page}");
}

#[tokio::test]
async fn sign_out_by_get_works_and_a_cross_site_post_is_refused() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    let refused = browser.post_form(app.url("/auth/signout"), &[], &[("Origin", "https://evil.example")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(app.me(&browser).await.is_ok(), "still signed in");

    let answer = browser.get(app.url("/auth/signout")).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));

    // Signing out again, signed out already, just goes home.
    let again = browser.get(app.url("/auth/signout")).await;
    assert_eq!(location(&again), app.origin.as_str());
}
