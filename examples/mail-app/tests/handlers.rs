//! The app's handlers through its router, with no identity provider running: `msal_runtime::testing` signs
//! users in and gives them tokens it signs, and the real mail API runs in process, trusting them.
//!
//! These tests assert status codes, `Location` parameters and element ids (`user`, `sign-in`, `inbox`,
//! `empty`), never page layout or wording.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::{ACCEPT, AUTHORIZATION, COOKIE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use msal_runtime::testing::{SignedInCookie, TestFailure, TestMsal, TestToken, TestUser};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tower::ServiceExt;
use url::Url;

/// The mail API's audience, and its admin key (`POST /admin/revoke/{user}`).
const AUDIENCE: &str = "api://mail-api";
const ADMIN_KEY: &str = "test-admin-key";

/// The real mail API (`mail_api::router_with_admin`) in process on a loopback port, trusting the in-memory
/// provider's tokens; a layer in front of it records the `Authorization` header of each call.
struct MailApi {
    url: Url,
    authorizations: Arc<Mutex<Vec<String>>>,
}

impl MailApi {
    async fn start(test: &TestMsal) -> Self {
        let api = test.protected_api(&[AUDIENCE]).unwrap();
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&authorizations);
        let record = move |request: Request<Body>, next: Next| {
            let seen = Arc::clone(&seen);
            async move {
                let authorization = request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
                seen.lock().await.push(authorization.unwrap_or("").to_owned());
                next.run(request).await
            }
        };
        let router = mail_api::router_with_admin(&api, mail_api::Mailboxes::default(), Some(ADMIN_KEY))
            .layer(axum::middleware::from_fn(record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, authorizations }
    }

    /// `from` sends `to` a message through the API, with a `Mail.Send` token of their own (not recorded).
    async fn deliver(&self, test: &TestMsal, from: &TestUser, to: &str, subject: &str) {
        let token = test.access_token(from, "Mail.Send", AUDIENCE).unwrap();
        let message = json!({ "to": to, "subject": subject, "body": "At noon." });
        let response = reqwest::Client::new()
            .post(self.url.join("messages").unwrap())
            .bearer_auth(token)
            .json(&message)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        self.authorizations.lock().await.clear();
    }

    /// The API revokes `user`'s sessions: their tokens issued before this second get a claims challenge.
    async fn revoke(&self, user: &str) {
        let response = reqwest::Client::new()
            .post(self.url.join(&format!("admin/revoke/{user}")).unwrap())
            .header("x-admin-key", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        self.authorizations.lock().await.clear();
    }
}

/// The app over a test runtime, and the mail API it calls.
struct App {
    test: TestMsal,
    router: Router,
    mail_api: MailApi,
}

impl App {
    async fn start() -> Self {
        let test = TestMsal::new().await.unwrap();
        let mail_api = MailApi::start(&test).await;
        let router = mail_app::router(test.msal(), mail_api.url.clone());
        Self { test, router, mail_api }
    }

    async fn get(&self, path: &str, cookie: Option<&SignedInCookie>, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie.header_value());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    /// The query of a redirect to the in-memory provider's authorize URL.
    fn authorize_query(&self, response: &Response) -> Vec<(String, String)> {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
        let endpoint = self.test.authorization_endpoint();
        assert_eq!((location.origin(), location.path()), (endpoint.origin(), endpoint.path()), "{location}");
        location.query_pairs().into_owned().collect()
    }
}

fn alice() -> TestUser {
    TestUser::new("alice").name("Alice Example").username("alice@contoso.test")
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

fn scopes(query: &[(String, String)]) -> Vec<&str> {
    param(query, "scope").unwrap_or_default().split(' ').collect()
}

async fn body(response: Response) -> String {
    String::from_utf8(to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

/// The HTML from the element with `id` on (its opening tag's end) to the end of the page: what it and the
/// elements after it show, whatever the markup around them.
fn from_element<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    Some(&rest[rest.find('>')? + 1..])
}

/// The text inside the element with `id`, up to the first closing tag, with the tags of any element it
/// opens inside left out (`<span id="user"><b>Alice</b></span>` is `Alice`).
fn element_text(html: &str, id: &str) -> Option<String> {
    let inside = from_element(html, id)?;
    let inside = &inside[..inside.find("</").unwrap_or(inside.len())];
    let mut text = String::new();
    let mut in_tag = false;
    for c in inside.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.trim().to_owned())
}

#[tokio::test]
async fn signed_in_the_home_page_names_the_user() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    let response = app.get("/", Some(&cookie), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = body(response).await;
    assert_eq!(element_text(&html, "user").as_deref(), Some("Alice Example"), "{html}");
    assert!(from_element(&html, "sign-in").is_none(), "{html}");
}

#[tokio::test]
async fn signed_in_me_is_the_user_as_json() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    let response = app.get("/me", Some(&cookie), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = serde_json::from_str(&body(response).await).unwrap();
    let home_account_id = app.test.home_account_id(&alice()).unwrap();
    assert_eq!(me, json!({ "name": "Alice Example", "sub": "alice", "home_account_id": home_account_id.as_str() }));
}

#[tokio::test]
async fn signed_in_with_a_mail_read_token_the_inbox_comes_from_the_mail_api_with_that_token() {
    let app = App::start().await;
    app.mail_api.deliver(&app.test, &TestUser::new("bob"), "alice", "Lunch on Friday?").await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    let token = app.test.access_token(&alice(), "Mail.Read", AUDIENCE).unwrap();
    app.test.give_token(&alice(), "Mail.Read", &token).await.unwrap();

    let response = app.get("/mail", Some(&cookie), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = body(response).await;
    assert!(from_element(&html, "inbox").is_some_and(|inbox| inbox.contains("Lunch on Friday?")), "{html}");
    assert!(from_element(&html, "empty").is_none(), "{html}");
    assert_eq!(*app.mail_api.authorizations.lock().await, [format!("Bearer {token}")]);
}

#[tokio::test]
async fn consent_required_a_page_load_goes_to_the_provider_for_mail_send() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    // A Mail.Read token does not do for Mail.Send.
    app.test.give_token(&alice(), "Mail.Read", "chosen-mail-read-token").await.unwrap();

    let response = app.get("/mail/compose", Some(&cookie), &[]).await;
    let query = app.authorize_query(&response);
    assert!(scopes(&query).contains(&"Mail.Send"), "{query:?}");
    assert_eq!(param(&query, "login_hint"), Some("alice@contoso.test"));
    assert_eq!(param(&query, "claims"), None);
}

#[tokio::test]
async fn consent_required_a_fetch_gets_401_with_the_consent_url() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    for headers in [[("sec-fetch-mode", "cors")], [(ACCEPT.as_str(), "application/json")]] {
        let response = app.get("/mail/compose", Some(&cookie), &headers).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
        assert!(response.headers().contains_key(WWW_AUTHENTICATE));
        let answer: Value = serde_json::from_str(&body(response).await).unwrap();
        let consent_url = answer["consent_url"].as_str().unwrap();
        let consent_url = Url::parse("http://localhost").unwrap().join(consent_url).unwrap();
        assert_eq!(consent_url.path(), msal_runtime::SIGN_IN_PATH);
        let query: Vec<(String, String)> = consent_url.query_pairs().into_owned().collect();
        assert!(scopes(&query).contains(&"Mail.Send"), "{query:?}");
        assert_eq!(param(&query, "login_hint"), Some("alice@contoso.test"));
    }
}

#[tokio::test]
async fn claims_challenge_of_the_mail_api_sends_the_user_to_the_provider_with_the_claims() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    let token = app.test.access_token(&alice(), "Mail.Read", AUDIENCE).unwrap();
    app.test.give_token(&alice(), "Mail.Read", &token).await.unwrap();
    // The API challenges tokens issued before the second of the revocation: let that second come.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.mail_api.revoke("alice").await;

    let response = app.get("/mail", Some(&cookie), &[]).await;
    let query = app.authorize_query(&response);
    let claims: Value = serde_json::from_str(param(&query, "claims").expect("the API's claims")).unwrap();
    assert_eq!(claims["access_token"]["nbf"]["essential"], true, "{claims}");
    assert!(scopes(&query).contains(&"Mail.Read"), "{query:?}");
    assert_eq!(param(&query, "login_hint"), Some("alice@contoso.test"));
    assert_eq!(*app.mail_api.authorizations.lock().await, [format!("Bearer {token}")]);

    // The refused token was dropped: the next page load asks for Mail.Read again without calling the API.
    let response = app.get("/mail", Some(&cookie), &[]).await;
    assert!(scopes(&app.authorize_query(&response)).contains(&"Mail.Read"));
    assert_eq!(app.mail_api.authorizations.lock().await.len(), 1);
}

#[tokio::test]
async fn provider_down_with_an_expired_token_the_inbox_answers_503() {
    let app = App::start().await;
    let cookie = app.test.sign_in(&alice()).await.unwrap();
    let expired = TestToken::new("Mail.Read", "expired-token").expires_in(Duration::ZERO);
    app.test.give(&alice(), expired).await.unwrap();
    app.test.fail(&alice(), "Mail.Read", TestFailure::ProviderDown).unwrap();

    let response = app.get("/mail", Some(&cookie), &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(app.mail_api.authorizations.lock().await.is_empty(), "the expired token was not sent");
}

#[tokio::test]
async fn signed_out_the_inbox_goes_to_sign_in_and_the_home_page_offers_it() {
    let app = App::start().await;
    let response = app.get("/mail", None, &[]).await;
    let query = app.authorize_query(&response);
    assert!(scopes(&query).contains(&"openid"), "a sign-in: {query:?}");
    assert_eq!(param(&query, "login_hint"), None);

    let html = body(app.get("/", None, &[]).await).await;
    assert!(from_element(&html, "sign-in").is_some(), "{html}");
    assert!(from_element(&html, "user").is_none(), "{html}");
}

#[tokio::test]
async fn mail_api_down_the_inbox_is_the_apps_own_error_page_with_the_user() {
    let test = TestMsal::new().await.unwrap();
    // A loopback port nothing listens on: the call fails at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let router = mail_app::router(test.msal(), Url::parse(&format!("http://{closed}/")).unwrap());
    let cookie = test.sign_in(&alice()).await.unwrap();
    test.give_token(&alice(), "Mail.Read", "chosen-mail-read-token").await.unwrap();

    let request = Request::get("/mail").header(COOKIE, cookie.header_value()).body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let html = body(response).await;
    assert!(from_element(&html, "problem").is_some(), "{html}");
    assert_eq!(element_text(&html, "user").as_deref(), Some("Alice Example"), "{html}");
    assert!(!html.contains("127.0.0.1"), "no internals on the page: {html}");
}
