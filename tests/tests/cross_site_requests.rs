//! Another site cannot act for a signed-in user (docs/SECURITY.md §28): its link to sign-out gets a page
//! asking the user to confirm, and its form posts to the app's own routes are refused, while the app's own
//! pages keep working. `SameSite=Lax` does not cover these: a link is a top-level navigation, and a sibling
//! origin of the same site (another port here) is same-site.

use axum::routing::post;
use axum::{Extension, Router};
use msal_runtime::{AllowCrossOrigin, Msal, SignedInUser};
use msal_tests::{AppListener, Browser, TestApp, form_fields, location, stored_cookies};
use reqwest::StatusCode;
use serde_json::Value;

/// Another origin of the same site as the test app (`127.0.0.1`, another port).
const SIBLING: &str = "http://127.0.0.1:1";

#[tokio::test]
async fn a_link_from_another_site_to_sign_out_asks_to_confirm_and_keeps_the_session() {
    let app = TestApp::start().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;

    for headers in [
        &[("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "navigate")][..],
        &[("sec-fetch-site", "same-site"), ("referer", "http://127.0.0.1:1/page")][..],
        &[("referer", "https://evil.example/page")][..],
    ] {
        let answer = browser.get_with(app.url("/auth/signout"), headers).await;
        assert_eq!(answer.status(), StatusCode::OK, "{headers:?}");
        assert!(stored_cookies(&answer).is_empty() && answer.headers().get("set-cookie").is_none(), "{headers:?}");
        let page = answer.text().await.unwrap();
        assert!(page.contains(r#"<form method="post" action="/auth/signout">"#), "{page}");
        assert!(app.me(&browser).await.is_ok(), "still signed in after {headers:?}");
    }

    // The page's own form posts from the app's origin: now the user signs out.
    let origin = app.origin.as_str().trim_end_matches('/').to_owned();
    let confirmed = browser
        .post_form(app.url("/auth/signout"), &[], &[("origin", &origin), ("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));

    // A link on the app's own page signs out at once.
    app.sign_in(&browser, "/", "alice").await;
    let own_link = browser.get_with(app.url("/auth/signout"), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(own_link.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn a_cross_origin_form_post_is_refused_and_a_same_origin_one_is_served() {
    let app = TestApp::start_with(|config| config.initial_scopes(["Mail.Read", "Mail.Send"])).await;
    let alice = Browser::new();
    app.sign_in(&alice, "/", "alice").await;
    let origin = app.origin.as_str().trim_end_matches('/').to_owned();

    let forged = form_fields(&[("to", "bob"), ("subject", "forged by another site"), ("body", "x")]);
    let refused = alice
        .post_form(
            app.url("/mail/send"),
            &forged,
            &[("origin", SIBLING), ("sec-fetch-site", "same-site"), ("sec-fetch-mode", "navigate")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("came from another site"));
    let script =
        alice.post_form(app.url("/mail/send"), &forged, &[("origin", SIBLING), ("sec-fetch-mode", "cors")]).await;
    assert_eq!(script.status(), StatusCode::FORBIDDEN);
    assert_eq!(script.json::<Value>().await.unwrap()["error"], "Request refused");

    let genuine = form_fields(&[("to", "bob"), ("subject", "sent from the app"), ("body", "x")]);
    let sent = alice
        .post_form(
            app.url("/mail/send"),
            &genuine,
            &[("origin", &origin), ("sec-fetch-site", "same-origin"), ("sec-fetch-mode", "navigate")],
        )
        .await;
    assert_eq!((sent.status(), location(&sent)), (StatusCode::SEE_OTHER, "/mail"));

    let bob = Browser::new();
    app.sign_in(&bob, "/", "bob").await;
    let inbox = bob.get(app.url("/mail")).await.text().await.unwrap();
    assert!(inbox.contains("sent from the app"), "{inbox}");
    assert!(!inbox.contains("forged by another site"), "{inbox}");
}

async fn who(user: Option<SignedInUser>) -> String {
    user.map(|user| user.subject().to_owned()).unwrap_or_else(|| "nobody".to_owned())
}

async fn signed_in_only(user: SignedInUser) -> String {
    user.subject().to_owned()
}

fn router(msal: &Msal, _mail_api: url::Url) -> Router {
    Router::new()
        .route("/who", post(who))
        .route("/hook", post(who).layer(Extension(AllowCrossOrigin)))
        .route("/mine", post(signed_in_only))
        .merge(msal.routes())
        .with_state(msal.clone())
}

#[tokio::test]
async fn a_route_that_takes_other_sites_posts_opts_out_and_the_others_see_nobody() {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    let config = listener.config(&idp);
    let app = listener.serve_router(idp, config, router).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let cross = [("origin", SIBLING), ("sec-fetch-site", "same-site")];
    let text = |response: reqwest::Response| async move { response.text().await.unwrap() };

    assert_eq!(text(browser.post_form(app.url("/who"), &[], &cross).await).await, "nobody");
    assert_eq!(text(browser.post_form(app.url("/hook"), &[], &cross).await).await, "alice", "opted out");
    let mine = browser.post_form(app.url("/mine"), &[], &cross).await;
    assert_eq!(mine.status(), StatusCode::FORBIDDEN);
    assert_eq!(mine.json::<Value>().await.unwrap()["error"], "cross_origin_request");
    assert_eq!(text(browser.post_form(app.url("/who"), &[], &[]).await).await, "alice", "no browser signal");
}
