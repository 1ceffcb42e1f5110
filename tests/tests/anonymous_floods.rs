//! What an anonymous client can make the server keep (docs/SECURITY.md §26, §27): sign-in starts are free
//! for anyone to send, so none of them may grow the server, and a flood of them cannot push out a real user
//! who is in the middle of signing in.

use axum::body::Body;
use axum::http::{Request, StatusCode as AxumStatus};
use futures::StreamExt;
use msal_tests::{Browser, TestApp, location, resident_bytes};
use reqwest::StatusCode;
use tower::ServiceExt;

/// A few MiB: what the allocator may keep around after handling requests, far less than a leak would show.
const FEW_MIB: usize = 8 * 1024 * 1024;

/// `s0 s1 … s9999`, written as a query value (`+` between scopes): 59 KB, under the 64 KiB a URI may have.
fn made_up_scopes(count: usize) -> String {
    (0..count).map(|i| format!("s{i}")).collect::<Vec<_>>().join("+")
}

#[tokio::test]
async fn three_hundred_sign_in_starts_with_ten_thousand_made_up_scopes_are_refused_and_keep_nothing() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();
    let url = app.url(&format!("/auth/signin?return_url=/&scope={}", made_up_scopes(10_000)));
    assert!(url.len() > 55_000, "{} bytes", url.len());
    // Warm up: the first requests allocate what any request does (connections, buffers).
    for _ in 0..20 {
        assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    let before = resident_bytes();
    for _ in 0..300 {
        let answer = client.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.headers().get("set-cookie").is_none(), "no sign-in was started");
    }
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < FEW_MIB, "the app grew by {grown} bytes");
    assert_eq!(app.msal.sign_in_memory_bytes(), 0, "nothing is kept for a refused sign-in");
    assert_eq!(app.idp.requests("GET /auth").await, 0, "nobody was sent to the provider");
}

#[tokio::test]
async fn a_scope_the_app_never_asks_for_is_refused_by_name() {
    let app =
        TestApp::start_with(|config| config.initial_scopes(["Mail.Read"]).allow_sign_in_scopes(["User.Read"])).await;
    let browser = Browser::new();
    let refused = browser.get(app.url("/auth/signin?return_url=/&scope=Mail.Read+Files.ReadWrite.All")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.unwrap();
    assert!(page.contains("`Files.ReadWrite.All` is not a scope this app asks for"), "{page}");

    // The app's own scopes pass: an initial one, a handler's (mail-app's Mail.Send), an explicitly allowed one.
    for scope in ["Mail.Read", "Mail.Send", "User.Read", "openid+Mail.Send"] {
        let started = browser.get(app.url(&format!("/auth/signin?return_url=/&scope={scope}"))).await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER, "{scope}");
        assert!(location(&started).starts_with(&app.idp.issuer), "{scope}");
    }
    let long_hint = "x".repeat(300);
    let refused = browser.get(app.url(&format!("/auth/signin?return_url=/&login_hint={long_hint}"))).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_real_sign_in_survives_a_hundred_thousand_cookie_less_sign_in_starts() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    // A real user starts signing in and is on the provider's pages during the flood.
    let response = app.sign_in_until_callback(&browser, "/inbox", "alice").await;

    // The flood, through the app's own router in this process (the same state as the served app), so that
    // 100,000 requests take seconds, not minutes.
    let router = mail_app::router(&app.msal, app.mail_api.clone());
    let before = resident_bytes();
    let flood = (0..100_000).map(|i| {
        let router = router.clone();
        async move {
            let request = Request::get(format!("/auth/signin?return_url=/flood/{i}")).body(Body::empty()).unwrap();
            let answer = router.oneshot(request).await.unwrap();
            assert_eq!(answer.status(), AxumStatus::SEE_OTHER);
        }
    });
    futures::stream::iter(flood).buffer_unordered(64).collect::<Vec<()>>().await;
    let grown = resident_bytes().saturating_sub(before);

    // Sign-ins in progress live in the browsers' cookies: the server holds nothing for the flood's.
    assert_eq!(app.msal.sign_in_memory_bytes(), 0);
    assert!(grown < FEW_MIB, "100,000 sign-in starts grew the app by {grown} bytes");

    let callback = browser.deliver(&response).await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER, "{}", callback.text().await.unwrap_or_default());
    assert_eq!(location(&callback), "/inbox");
    assert_eq!(app.me(&browser).await.unwrap()["sub"], "alice");
    // What the server keeps after the real callback: its one outcome, far below the documented bound.
    let kept = app.msal.sign_in_memory_bytes();
    assert!(kept > 0 && kept < 1024, "{kept} bytes");
}
