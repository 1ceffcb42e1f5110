//! The example `mail-app` served on a free loopback port, configured against a [`TestIdp`], served as the
//! examples serve it (`example_server::serve`, with its timeouts).

use example_server::Timeouts;
use msal_runtime::{HomeAccountId, Msal, MsalConfig, MsalConfigBuilder, ProtectedApi};
use reqwest::StatusCode;
use tokio::net::TcpListener;
use url::Url;

use crate::browser::{AuthorizationResponse, Browser, location};
use crate::idp::TestIdp;

/// A port the app will serve on, reserved before the provider starts (which must know the redirect URI).
#[derive(Debug)]
pub struct AppListener {
    listener: TcpListener,
    /// `http://127.0.0.1:<port>`.
    pub origin: Url,
}

impl AppListener {
    /// Binds `127.0.0.1:0`.
    pub async fn bind() -> AppListener {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        AppListener { listener, origin }
    }

    /// The listener itself, for serving something else at this origin (a proxy).
    pub fn into_listener(self) -> TcpListener {
        self.listener
    }

    /// The redirect URI: `<origin>/auth/callback`.
    pub fn redirect_uri(&self) -> String {
        self.origin.join("/auth/callback").unwrap().to_string()
    }

    /// Starts a provider that knows this app's redirect and post-logout URIs.
    pub async fn start_idp(&self) -> TestIdp {
        TestIdp::start(&[self.redirect_uri()], &[self.origin.to_string()]).await
    }

    /// [`start_idp`](Self::start_idp) with the issuer at `issuer_path` (see [`TestIdp::start_at_path`]).
    pub async fn start_idp_at_path(&self, issuer_path: &str) -> TestIdp {
        TestIdp::start_at_path(&[self.redirect_uri()], &[self.origin.to_string()], issuer_path).await
    }

    /// The configuration of client `mail-app` (client_secret_basic) against `idp`, with the in-memory store
    /// (tests of the shared stores choose theirs).
    pub fn config(&self, idp: &TestIdp) -> MsalConfigBuilder {
        MsalConfig::builder()
            .token_cache("memory")
            .authority(&idp.issuer)
            .client_id("mail-app")
            .client_secret("mail-app-secret")
            .redirect_uri(self.redirect_uri())
    }

    /// Starts `mail-api` and `mail-app` (configured with `config`) against `idp`.
    pub async fn serve(self, idp: TestIdp, config: MsalConfigBuilder) -> TestApp {
        self.serve_router(idp, config, mail_app::router).await
    }

    /// Starts `mail-api`, and the app that `router` builds from the runtime and the mail API's URL, both with
    /// the examples' default timeouts.
    pub async fn serve_router(
        self,
        idp: TestIdp,
        config: MsalConfigBuilder,
        router: impl FnOnce(&Msal, Url) -> axum::Router,
    ) -> TestApp {
        self.serve_router_with_timeouts(idp, config, Timeouts::default(), router).await
    }

    /// [`AppListener::serve_router`], both servers closing stalled connections after `timeouts`.
    pub async fn serve_router_with_timeouts(
        self,
        idp: TestIdp,
        config: MsalConfigBuilder,
        timeouts: Timeouts,
        router: impl FnOnce(&Msal, Url) -> axum::Router,
    ) -> TestApp {
        let api = ProtectedApi::new(&idp.issuer, &[MAIL_API_AUDIENCE]).await.expect("ProtectedApi::new");
        let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mail_api = Url::parse(&format!("http://{}/", api_listener.local_addr().unwrap())).unwrap();
        let api_router = mail_api::router_with_admin(&api, mail_api::Mailboxes::default(), Some(MAIL_API_ADMIN_KEY));
        // Served until the test's runtime ends: the tests never shut a server down.
        tokio::spawn(example_server::serve(api_listener, api_router, timeouts, std::future::pending()));

        let msal = Msal::new(config.build().expect("valid test configuration")).await.expect("Msal::new");
        let router = router(&msal, mail_api.clone());
        tokio::spawn(example_server::serve(self.listener, router, timeouts, std::future::pending()));
        TestApp { origin: self.origin, msal, idp, mail_api }
    }
}

/// The audience of the mail API's access tokens at the test provider.
pub const MAIL_API_AUDIENCE: &str = "api://mail-api";

/// The mail API's admin key in the tests (`X-Admin-Key` of `POST /admin/revoke/{user}`).
pub const MAIL_API_ADMIN_KEY: &str = "test-admin-key";

/// A running `mail-app`, the `mail-api` it calls, and their provider.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub origin: Url,
    /// The app's runtime, for looking into its token cache.
    pub msal: Msal,
    /// The provider.
    pub idp: TestIdp,
    /// The mail API's base URL.
    pub mail_api: Url,
}

impl TestApp {
    /// A provider and `mail-app` with the default test configuration.
    pub async fn start() -> TestApp {
        Self::start_with(|config| config).await
    }

    /// A provider and `mail-app`, the configuration adjusted by `configure`.
    pub async fn start_with(configure: impl FnOnce(MsalConfigBuilder) -> MsalConfigBuilder) -> TestApp {
        let listener = AppListener::bind().await;
        let idp = listener.start_idp().await;
        let config = configure(listener.config(&idp));
        listener.serve(idp, config).await
    }

    /// Revokes `user`'s sessions at the mail API: their tokens issued before this second are challenged.
    pub async fn revoke_at_mail_api(&self, user: &str) {
        let response = reqwest::Client::new()
            .post(self.mail_api.join(&format!("admin/revoke/{user}")).unwrap())
            .header("x-admin-key", MAIL_API_ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "revoked");
    }

    /// An absolute URL of the app.
    pub fn url(&self, path: &str) -> String {
        self.origin.join(path).unwrap().to_string()
    }

    /// `GET /auth/signin?return_url=…` in `browser`: the provider's authorization URL it redirects to.
    pub async fn begin_sign_in(&self, browser: &Browser, return_url: &str) -> String {
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("return_url", return_url).finish();
        let response = browser.get(self.url(&format!("/auth/signin?{query}"))).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in start");
        let authorize = location(&response).to_owned();
        assert!(authorize.starts_with(&self.idp.issuer), "{authorize}");
        authorize
    }

    /// Starts a sign-in and goes through the provider as `login`, stopping before the callback.
    pub async fn sign_in_until_callback(
        &self,
        browser: &Browser,
        return_url: &str,
        login: &str,
    ) -> AuthorizationResponse {
        let authorize = self.begin_sign_in(browser, return_url).await;
        browser.authorize(&authorize, login, &self.origin).await
    }

    /// A complete sign-in as `login`; asserts it ends at `return_url`.
    pub async fn sign_in(&self, browser: &Browser, return_url: &str, login: &str) -> AuthorizationResponse {
        let response = self.sign_in_until_callback(browser, return_url, login).await;
        let callback = browser.deliver(&response).await;
        assert_eq!(callback.status(), StatusCode::SEE_OTHER, "callback: {}", callback.text().await.unwrap());
        assert_eq!(location(&callback), return_url);
        response
    }

    /// The signed-in user's cache partition as MSAL JSON (`None` when the cache holds nothing for them).
    pub async fn cached_tokens(&self, browser: &Browser) -> Option<serde_json::Value> {
        let me = self.me(browser).await.expect("signed in");
        let account = HomeAccountId::new(me["home_account_id"].as_str().unwrap());
        let json = self.msal.token_cache().export_msal_json(&account).await.unwrap()?;
        Some(serde_json::from_str(&json).unwrap())
    }

    /// The signed-in user's cache key.
    pub async fn account(&self, browser: &Browser) -> HomeAccountId {
        let me = self.me(browser).await.expect("signed in");
        HomeAccountId::new(me["home_account_id"].as_str().unwrap())
    }

    /// `GET /me` as JSON, or the status when it is not 200.
    pub async fn me(&self, browser: &Browser) -> Result<serde_json::Value, StatusCode> {
        let response = browser.get(self.url("/me")).await;
        match response.status() {
            StatusCode::OK => Ok(response.json().await.unwrap()),
            status => Err(status),
        }
    }
}
