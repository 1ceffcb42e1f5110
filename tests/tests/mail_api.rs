//! The example mail API refuses what RFC 6750 says it must, with real tokens from the provider.

use msal_tests::{Browser, TestApp, app_reading_mail, cache_entries};
use reqwest::StatusCode;
use serde_json::json;

/// A signed-in user's cached tokens: (access token for Mail.Read, ID token).
async fn tokens() -> (TestApp, String, String) {
    let app = app_reading_mail().await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let cached = app.cached_tokens(&browser).await.unwrap();
    let first = |kind: &str| -> String { cache_entries(&cached, kind)[0]["secret"].as_str().unwrap().to_owned() };
    let (access_token, id_token) = (first("AccessToken"), first("IdToken"));
    (app, access_token, id_token)
}

async fn call(app: &TestApp, method: reqwest::Method, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().request(method.clone(), app.mail_api.join("messages").unwrap());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if method == reqwest::Method::POST {
        request = request.json(&json!({ "to": "alice", "subject": "s", "body": "b" }));
    }
    let response = request.send().await.unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), challenge)
}

#[tokio::test]
async fn the_api_answers_like_rfc6750() {
    let (app, access_token, id_token) = tokens().await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    assert_eq!(call(&app, get.clone(), None).await, (StatusCode::UNAUTHORIZED, "Bearer".to_owned()));
    let (status, challenge) = call(&app, get.clone(), Some("Basic YTpi")).await;
    assert_eq!((status, challenge.as_str()), (StatusCode::BAD_REQUEST, "Bearer error=\"invalid_request\""));
    let (status, challenge) = call(&app, get.clone(), Some("Bearer not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
    // An ID token is for the app, not for the API.
    let (status, challenge) = call(&app, get.clone(), Some(&format!("Bearer {id_token}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{challenge}");

    let bearer = format!("Bearer {access_token}");
    let (status, _) = call(&app, get, Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, challenge) = call(&app, post, Some(&bearer)).await;
    assert_eq!(
        (status, challenge.as_str()),
        (StatusCode::FORBIDDEN, "Bearer error=\"insufficient_scope\", scope=\"Mail.Send\"")
    );
}
