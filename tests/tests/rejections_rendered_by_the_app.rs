//! Rejections are data: an app that takes `Result<AccessTokenFor<_>, AccessTokenForRejection>` answers in
//! its own way (here JSON of its own shape, and its own interstitial page instead of the automatic redirect),
//! and the runtime starts nothing behind its back; the consent URL it hands out still works.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use msal_runtime::error::AccessTokenForRejection;
use msal_runtime::{AccessTokenFor, Msal, RequestKind, RequiredScopes, SignedInUser};
use msal_tests::{AppListener, Browser, location, query_param, set_cookies};
use serde_json::{Value, json};

struct MailSend;
impl RequiredScopes for MailSend {
    const SCOPES: &'static [&'static str] = &["Mail.Send"];
}

/// JSON of the app's own shape for every reason there is no token.
async fn api_send(token: Result<AccessTokenFor<MailSend>, AccessTokenForRejection>) -> Response {
    let rejection = match token {
        Ok(token) => return Json(json!({ "sent_with_token_expiring": token.expires_on() })).into_response(),
        Err(rejection) => rejection,
    };
    let body = match &rejection {
        AccessTokenForRejection::SignInRequired(interaction) => {
            json!({ "problem": "signed-out", "next": interaction.consent_url() })
        }
        AccessTokenForRejection::InteractionRequired(interaction) => json!({
            "problem": "consent",
            "missing": interaction.scopes().iter().map(|scope| scope.as_str()).collect::<Vec<_>>(),
            "next": interaction.consent_url(),
            "fetch": interaction.request_kind() == RequestKind::Fetch,
        }),
        other => json!({ "problem": other.to_string() }),
    };
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

/// An interstitial page instead of the automatic redirect; every other rejection keeps its default answer.
async fn compose_page(token: Result<AccessTokenFor<MailSend>, AccessTokenForRejection>) -> Response {
    match token {
        Ok(_) => Html("<form>compose</form>").into_response(),
        Err(AccessTokenForRejection::InteractionRequired(interaction)) => Html(format!(
            "<p>Sending mail needs your permission.</p><a id=\"consent\" href=\"{}\">Continue</a>",
            interaction.consent_url()
        ))
        .into_response(),
        Err(other) => other.into_response(),
    }
}

async fn me(user: SignedInUser) -> String {
    user.subject().to_owned()
}

fn router(msal: &Msal, _mail_api: url::Url) -> Router {
    Router::new()
        .route("/api/send", get(api_send))
        .route("/compose", get(compose_page))
        .route("/me", get(me))
        .merge(msal.routes())
        .with_state(msal.clone())
}

#[tokio::test]
async fn an_app_renders_each_rejection_its_own_way_and_no_sign_in_starts_behind_its_back() {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp().await;
    let config = listener.config(&idp).initial_scopes(["Mail.Read"]);
    let app = listener.serve_router(idp, config, router).await;
    let browser = Browser::new();

    // Signed out: the app's JSON, not a redirect and not the runtime's 401.
    let signed_out = browser.get_with(app.url("/api/send"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(signed_out.status(), StatusCode::FORBIDDEN);
    assert!(set_cookies(&signed_out).is_empty(), "no sign-in was started: {:?}", set_cookies(&signed_out));
    let body: Value = signed_out.json().await.unwrap();
    assert_eq!(body["problem"], "signed-out");
    assert!(body["next"].as_str().unwrap().starts_with("/auth/signin?return_url=%2F"), "{body}");

    // Signed in without Mail.Send: the app's JSON names the missing scope and where to go.
    app.sign_in(&browser, "/", "alice").await;
    let before = app.idp.requests("GET /auth").await;
    let needs_consent = browser.get_with(app.url("/api/send"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(needs_consent.status(), StatusCode::FORBIDDEN);
    let body: Value = needs_consent.json().await.unwrap();
    assert_eq!(body["problem"], "consent");
    assert_eq!(body["missing"], json!(["Mail.Send"]));
    assert_eq!(body["fetch"], true);

    // A page load gets the app's interstitial instead of the automatic redirect, and no sign-in cookie.
    let page = browser.get_with(app.url("/compose"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(set_cookies(&page).is_empty(), "no sign-in was started: {:?}", set_cookies(&page));
    let html = page.text().await.unwrap();
    assert!(html.contains("needs your permission"), "{html}");
    assert_eq!(app.idp.requests("GET /auth").await, before, "nobody was sent to the provider");

    // The consent URL the app handed out works: the user consents and comes back to the page.
    let href = html.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    assert!(href.starts_with("/auth/signin?"), "{href}");
    let start = browser.get(app.url(&href)).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start).to_owned();
    assert!(query_param(&authorize, "scope").unwrap().contains("Mail.Send"), "{authorize}");
    let response = browser.authorize(&authorize, "alice", &app.origin).await;
    assert_eq!(location(&browser.deliver(&response).await), "/compose");
    let page = browser.get_with(app.url("/compose"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.text().await.unwrap(), "<form>compose</form>");
    let api = browser.get_with(app.url("/api/send"), &[("sec-fetch-mode", "cors")]).await;
    assert_eq!(api.status(), StatusCode::OK);
}
