//! On-behalf-of end to end: a user's app calls the mail API (`GET /contacts`), which exchanges the caller's token
//! at the provider (RFC 8693 token exchange, with the mail API's own registration `mail-api`) for a token of the
//! contacts API, and calls it. The contacts API sees the same user; the exchange happens once per caller's token
//! (then the cache serves); each caller's token gets its own; and a claims challenge from the provider goes back
//! to the caller.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use example_server::Timeouts;
use mail_api::{Contacts, Mailboxes, contacts_api};
use msal_runtime::{Msal, MsalConfig, ProtectedApi};
use msal_tests::{AppListener, Browser, MAIL_API_AUDIENCE, TestApp, cache_entries, jwt_claims, location, query_param};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The provider, the contacts API, a mail API that calls it on behalf of its callers, and `mail-app`, which
/// calls that mail API.
struct Apis {
    app: TestApp,
    /// The mail API calling the contacts API.
    mail_api: Url,
    contacts_api: Url,
}

async fn serve(router: axum::Router) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(example_server::serve(listener, router, Timeouts::default(), std::future::pending()));
    url
}

impl Apis {
    async fn start() -> Apis {
        let listener = AppListener::bind().await;
        let idp = listener.start_idp().await;
        let issuer = &idp.issuer;
        let contacts = ProtectedApi::new(issuer, &[contacts_api::AUDIENCE]).await.unwrap();
        let contacts_api = serve(contacts_api::router(&contacts)).await;
        // The mail API's own registration: a web API's runtime, which signs no one in.
        let config = MsalConfig::builder()
            .authority(issuer)
            .client_id("mail-api")
            .client_secret("mail-api-secret")
            .without_sign_in()
            .token_cache("memory")
            .build()
            .unwrap();
        let msal = Msal::new(config).await.unwrap();
        let api = ProtectedApi::new(issuer, &[MAIL_API_AUDIENCE]).await.unwrap();
        let contacts = Contacts::new(msal, contacts_api.clone());
        let mail_api = serve(mail_api::router_with_contacts(&api, Mailboxes::default(), None, Some(contacts))).await;
        // mail-app calls this mail API (the harness's own, without contacts, stays at `app.mail_api`).
        let config = listener.config(&idp).initial_scopes(["Mail.Read"]);
        let app_calls = mail_api.clone();
        let app = listener.serve_router(idp, config, move |msal, _| mail_app::router(msal, app_calls)).await;
        Apis { app, mail_api, contacts_api }
    }

    /// A fresh sign-in of `login` to `mail-app`: the `Mail.Read` token it cached for the mail API.
    async fn user_token(&self, login: &str) -> String {
        let browser = Browser::new();
        self.app.sign_in(&browser, "/", login).await;
        let cached = self.app.cached_tokens(&browser).await.unwrap();
        cache_entries(&cached, "AccessToken")[0]["secret"].as_str().unwrap().to_owned()
    }

    async fn exchanges(&self) -> u64 {
        self.app.idp.grants(TOKEN_EXCHANGE).await
    }
}

/// `GET <base>contacts` with `token`: status, `WWW-Authenticate`, body.
async fn contacts(base: &Url, token: &str) -> (StatusCode, String, String) {
    let response = reqwest::Client::new().get(base.join("contacts").unwrap()).bearer_auth(token).send().await.unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), challenge, response.text().await.unwrap())
}

#[tokio::test]
async fn the_mail_api_calls_the_contacts_api_on_behalf_of_its_caller_once_per_token() {
    let apis = Apis::start().await;
    let alice = apis.user_token("alice").await;
    assert_eq!(jwt_claims(&alice)["aud"], MAIL_API_AUDIENCE);

    let (status, _, body) = contacts(&apis.mail_api, &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    // The contacts API (which takes only tokens for `api://contacts-api`) saw alice, called by the mail API.
    assert_eq!((&list["owner"], &list["caller"]), (&json!("alice"), &json!("mail-api")), "{list}");
    assert_eq!(apis.exchanges().await, 1);
    // alice's own token is not one the contacts API takes: the mail API had to exchange it.
    assert_eq!(contacts(&apis.contacts_api, &alice).await.0, StatusCode::UNAUTHORIZED);

    // Again with the same token: the exchanged token is served from the mail API's cache.
    let (status, _, again) = contacts(&apis.mail_api, &alice).await;
    assert_eq!((status, &again), (StatusCode::OK, &body));
    assert_eq!(apis.exchanges().await, 1, "served from the cache");

    // Another caller gets their own; so does alice with another token (another sign-in).
    let bob = apis.user_token("bob").await;
    let (status, _, body) = contacts(&apis.mail_api, &bob).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["owner"], "bob");
    assert_eq!(apis.exchanges().await, 2);
    let alice_again = apis.user_token("alice").await;
    assert_ne!(alice_again, alice);
    assert_eq!(contacts(&apis.mail_api, &alice_again).await.0, StatusCode::OK);
    assert_eq!(apis.exchanges().await, 3, "a token bought with one assertion never serves another");
    assert_eq!(contacts(&apis.mail_api, &alice).await.0, StatusCode::OK);
    assert_eq!(apis.exchanges().await, 3, "the first token's is still cached");
}

#[tokio::test]
async fn concurrent_calls_of_one_caller_exchange_once() {
    let apis = Apis::start().await;
    let alice = apis.user_token("alice").await;
    let calls = futures::future::join_all((0..8).map(|_| contacts(&apis.mail_api, &alice))).await;
    assert!(calls.iter().all(|(status, _, _)| *status == StatusCode::OK), "{calls:?}");
    assert_eq!(apis.exchanges().await, 1);
}

#[tokio::test]
async fn a_claims_challenge_of_the_exchange_goes_back_to_the_caller() {
    let apis = Apis::start().await;
    let alice = apis.user_token("alice").await;
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    apis.app.idp.settings(msal_tests::IdpSettings::new().exchange_claims_challenge(Some(claims))).await;

    let (status, challenge, _) = contacts(&apis.mail_api, &alice).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{challenge}");
    assert!(challenge.contains("error=\"insufficient_claims\""), "{challenge}");
    let encoded = challenge.split("claims=\"").nth(1).unwrap().trim_end_matches('"');
    let passed_back: Value = serde_json::from_slice(&STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(passed_back, serde_json::from_str::<Value>(claims).unwrap());
    let errors = apis.app.idp.grant_errors().await;
    assert_eq!(errors[format!("{TOKEN_EXCHANGE}:interaction_required")], 1, "{errors}");

    // Once the provider is satisfied (here: no longer asks), a new token of the caller is exchanged.
    apis.app.idp.settings(msal_tests::IdpSettings::new().exchange_claims_challenge(None)).await;
    let satisfied = apis.user_token("alice").await;
    assert_eq!(contacts(&apis.mail_api, &satisfied).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_mail_apps_contacts_page_shows_them_and_a_claims_challenge_of_the_exchange_reaches_the_user() {
    let apis = Apis::start().await;
    let browser = Browser::new();
    apis.app.sign_in(&browser, "/", "alice").await;
    let page = browser.get(apis.app.url("/contacts")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<ul class="messages" id="contacts"><li>alice's manager</li>"#), "{html}");
    assert_eq!(apis.exchanges().await, 1);

    // The provider wants more of bob for the exchange: the mail API passes the challenge back, and mail-app
    // sends bob to the provider with those claims, then back to the page.
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    apis.app.idp.settings(msal_tests::IdpSettings::new().exchange_claims_challenge(Some(claims))).await;
    let bob = Browser::new();
    apis.app.sign_in(&bob, "/", "bob").await;
    let page = bob.get_with(apis.app.url("/contacts"), &[("sec-fetch-mode", "navigate")]).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let authorize = location(&page).to_owned();
    assert!(authorize.starts_with(&format!("{}/auth?", apis.app.idp.issuer)), "{authorize}");
    let asked: Value = serde_json::from_str(&query_param(&authorize, "claims").expect("the claims")).unwrap();
    assert_eq!(asked["access_token"]["acrs"]["value"], "c1", "{asked}");

    // Here the provider is satisfied by the new sign-in: the new token is exchanged, and the page loads.
    apis.app.idp.settings(msal_tests::IdpSettings::new().exchange_claims_challenge(None)).await;
    let response = bob.authorize(&authorize, "bob", &apis.app.origin).await;
    let callback = bob.deliver(&response).await;
    assert_eq!((callback.status(), location(&callback)), (StatusCode::SEE_OTHER, "/contacts"));
    let page = bob.get(apis.app.url("/contacts")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<li>bob's manager</li>"), "{html}");
    let errors = apis.app.idp.grant_errors().await;
    assert_eq!(errors[format!("{TOKEN_EXCHANGE}:interaction_required")], 1, "one challenge: {errors}");
}

#[tokio::test]
async fn app_only_callers_and_unconfigured_apis_get_no_contacts() {
    let apis = Apis::start().await;
    // A daemon has no user to act for: the route is for users.
    let daemon = apis.app.idp.app_token("mail-daemon").await;
    let (status, challenge, _) = contacts(&apis.mail_api, &daemon).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{challenge}");
    // The mail API without a registration of its own (as the harness starts it) answers 503.
    let alice = apis.user_token("alice").await;
    assert_eq!(contacts(&apis.app.mail_api, &alice).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(apis.exchanges().await, 0);
}
