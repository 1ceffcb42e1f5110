//! The mail API's app-only callers, with real client credentials tokens from the provider: a daemon granted
//! the app role `Mail.Read.All` is accepted on the routes for apps and refused on the routes for users, a
//! user's token is refused on the route for apps even when the user is assigned that role, and the route that
//! serves both tells them apart.

use msal_tests::{Browser, TestApp, app_reading_mail, cache_entries, jwt_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The Mail.Read access token that `mail-app` cached for `login` after signing them in.
async fn user_token(app: &TestApp, login: &str) -> String {
    let browser = Browser::new();
    app.sign_in(&browser, "/", login).await;
    let cached = app.cached_tokens(&browser).await.unwrap();
    cache_entries(&cached, "AccessToken")[0]["secret"].as_str().unwrap().to_owned()
}

/// The status, `WWW-Authenticate` and body of `GET <mail API>/<path>` with `token`.
async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, String, String) {
    let response =
        reqwest::Client::new().get(app.mail_api.join(path).unwrap()).bearer_auth(token).send().await.unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), challenge, response.text().await.unwrap())
}

/// Sends `alice` a message as `bob`, through the API's route for users.
async fn deliver_to_alice(app: &TestApp, bob: &str) {
    let response = reqwest::Client::new()
        .post(app.mail_api.join("messages").unwrap())
        .bearer_auth(bob)
        .json(&json!({ "to": "alice", "subject": "hello", "body": "from bob" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_daemon_is_accepted_on_the_routes_for_apps_and_refused_on_those_for_users() {
    let app = app_reading_mail().await;
    let daemon = app.idp.app_token("mail-daemon").await;
    let claims = jwt_claims(&daemon);
    assert_eq!((&claims["roles"], claims.get("scope")), (&json!(["Mail.Read.All"]), None), "{claims}");

    let (status, _, body) = get(&app, "admin/mailboxes/count", &daemon).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({ "mailboxes": 0, "messages": 0 }));

    // A route for users (delegated Mail.Read) is not for an app, whatever its roles.
    let (status, challenge, _) = get(&app, "messages", &daemon).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", error_description=\"this route does not accept app-only callers\""
    );

    // A daemon granted no role gets a token, and nothing with it.
    let unassigned = app.idp.app_token("mail-daemon-unassigned").await;
    let (status, challenge, _) = get(&app, "admin/mailboxes/count", &unassigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", error_description=\"the app lacks the app roles Mail.Read.All\""
    );
    let (status, _, _) = get(&app, "mailboxes/alice/messages", &unassigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_users_token_is_refused_on_the_route_for_apps_even_with_the_role() {
    let app = app_reading_mail().await;
    // `auditor` is assigned the app role Mail.Read.All as a user: it is in their delegated token.
    let auditor = user_token(&app, "auditor").await;
    let claims = jwt_claims(&auditor);
    assert_eq!((&claims["roles"], &claims["scope"]), (&json!(["Mail.Read.All"]), &json!("Mail.Read")), "{claims}");

    for user in [auditor, user_token(&app, "alice").await] {
        let (status, challenge, _) = get(&app, "admin/mailboxes/count", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            challenge,
            "Bearer error=\"insufficient_scope\", error_description=\"this route does not accept delegated callers\""
        );
        // And on their own routes, users are served as before.
        assert_eq!(get(&app, "messages", &user).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_route_for_both_tells_a_daemon_from_a_user() {
    let app = TestApp::start_with(|config| config.initial_scopes(["Mail.Read", "Mail.Send"])).await;
    let (alice, bob, auditor) =
        (user_token(&app, "alice").await, user_token(&app, "bob").await, user_token(&app, "auditor").await);
    let daemon = app.idp.app_token("mail-daemon").await;
    deliver_to_alice(&app, &bob).await;

    // The daemon reads anyone's inbox, and counts them all.
    let (status, _, body) = get(&app, "mailboxes/alice/messages", &daemon).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let messages: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((messages[0]["from"].as_str(), messages[0]["to"].as_str()), (Some("bob"), Some("alice")), "{body}");
    let (_, _, body) = get(&app, "admin/mailboxes/count", &daemon).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({ "mailboxes": 1, "messages": 1 }));

    // A user reads their own inbox only; a user's own Mail.Read.All role does not make them an app.
    let (status, _, body) = get(&app, "mailboxes/alice/messages", &alice).await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()), (StatusCode::OK, messages));
    for other in [&bob, &auditor] {
        let (status, _, body) = get(&app, "mailboxes/alice/messages", other).await;
        assert_eq!((status, body.as_str()), (StatusCode::FORBIDDEN, "a user reads their own mailbox only"));
    }
}
