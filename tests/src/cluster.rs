//! Several instances of `mail-app` sharing one store, behind a round-robin proxy at the public origin (the
//! redirect URI's), as a load balancer would spread a browser's requests; instances can be stopped and
//! started again on the same store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use msal_runtime::{Msal, MsalConfigBuilder, ProtectedApi};
use tokio::net::TcpListener;
use tokio::sync::{RwLock, oneshot};
use url::Url;

use crate::app::{AppListener, MAIL_API_ADMIN_KEY, MAIL_API_AUDIENCE};
use crate::idp::TestIdp;
use crate::{Browser, Timeouts};

/// One running instance.
#[derive(Debug)]
pub struct Instance {
    /// Where it listens (not the public origin).
    pub origin: Url,
    /// Its runtime.
    pub msal: Msal,
    stop: Option<oneshot::Sender<()>>,
}

impl Instance {
    /// An absolute URL of this instance, bypassing the proxy.
    pub fn url(&self, path: &str) -> String {
        self.origin.join(path).unwrap().to_string()
    }
}

/// A provider, the mail API, N instances, and the proxy in front of them.
pub struct Cluster {
    /// The public origin: the proxy.
    pub origin: Url,
    pub idp: TestIdp,
    pub instances: Vec<Instance>,
    mail_api: Url,
    backends: Arc<RwLock<Vec<Url>>>,
    config: Arc<dyn Fn(MsalConfigBuilder) -> MsalConfigBuilder + Send + Sync>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("origin", &self.origin).field("instances", &self.instances).finish()
    }
}

impl Cluster {
    /// `instances` instances of `mail-app`, each configured by `configure` (choose the shared store there).
    pub async fn start(
        instances: usize,
        configure: impl Fn(MsalConfigBuilder) -> MsalConfigBuilder + Send + Sync + 'static,
    ) -> Cluster {
        let public = AppListener::bind().await;
        let idp = public.start_idp().await;
        let api = ProtectedApi::new(&idp.issuer, &[MAIL_API_AUDIENCE]).await.expect("ProtectedApi::new");
        let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mail_api = Url::parse(&format!("http://{}/", api_listener.local_addr().unwrap())).unwrap();
        let api_router = mail_api::router_with_admin(&api, mail_api::Mailboxes::default(), Some(MAIL_API_ADMIN_KEY));
        tokio::spawn(example_server::serve(api_listener, api_router, Timeouts::default(), std::future::pending()));

        let origin = public.origin.clone();
        let backends = Arc::new(RwLock::new(Vec::new()));
        let proxy = Proxy { backends: Arc::clone(&backends), next: AtomicUsize::new(0), client: client() };
        let router = axum::Router::new().fallback(forward).with_state(Arc::new(proxy));
        tokio::spawn(example_server::serve(
            public.into_listener(),
            router,
            Timeouts::default(),
            std::future::pending(),
        ));

        let mut cluster =
            Cluster { origin, idp, instances: Vec::new(), mail_api, backends, config: Arc::new(configure) };
        for _ in 0..instances {
            cluster.start_instance().await;
        }
        cluster
    }

    /// Starts one more instance (on the same store) and adds it to the proxy's rotation.
    pub async fn start_instance(&mut self) -> usize {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let config = (self.config)(
            msal_runtime::MsalConfig::builder()
                .authority(&self.idp.issuer)
                .client_id("mail-app")
                .client_secret("mail-app-secret")
                .redirect_uri(self.origin.join("/auth/callback").unwrap().to_string()),
        );
        let msal = Msal::new(config.build().expect("valid test configuration")).await.expect("Msal::new");
        let router = mail_app::router(&msal, self.mail_api.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(example_server::serve(listener, router, Timeouts::default(), async move {
            let _ = stopped.await;
        }));
        self.backends.write().await.push(origin.clone());
        self.instances.push(Instance { origin, msal, stop: Some(stop) });
        self.instances.len() - 1
    }

    /// Stops instance `index` (its server, its runtime) and takes it out of the proxy's rotation.
    pub async fn stop_instance(&mut self, index: usize) {
        let mut instance = self.instances.remove(index);
        self.backends.write().await.retain(|origin| *origin != instance.origin);
        if let Some(stop) = instance.stop.take() {
            let _ = stop.send(());
        }
    }

    /// An absolute URL at the public origin.
    pub fn url(&self, path: &str) -> String {
        self.origin.join(path).unwrap().to_string()
    }

    /// A complete sign-in through the proxy as `login`, ending at `return_url`.
    pub async fn sign_in(&self, browser: &Browser, return_url: &str, login: &str) {
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("return_url", return_url).finish();
        let response = browser.get(self.url(&format!("/auth/signin?{query}"))).await;
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "sign-in start");
        let authorize = crate::location(&response).to_owned();
        let callback = browser.authorize(&authorize, login, &self.origin).await;
        let done = browser.deliver(&callback).await;
        assert_eq!(done.status(), reqwest::StatusCode::SEE_OTHER, "callback: {}", done.text().await.unwrap());
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

struct Proxy {
    backends: Arc<RwLock<Vec<Url>>>,
    next: AtomicUsize,
    client: reqwest::Client,
}

/// Forwards each request to the next backend in turn, as is (method, path, query, headers, body).
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let backend = {
        let backends = proxy.backends.read().await;
        assert!(!backends.is_empty(), "no instance is running");
        backends[proxy.next.fetch_add(1, Ordering::Relaxed) % backends.len()].clone()
    };
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut headers = parts.headers.clone();
    headers.remove(axum::http::header::HOST);
    let upstream = proxy
        .client
        .request(parts.method, backend.join(path).unwrap())
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("the instance answers");
    let mut response = Response::builder().status(upstream.status());
    // Hop-by-hop and framing headers are the proxy's own to set.
    let hop_by_hop = ["connection", "transfer-encoding", "content-length", "keep-alive"];
    for (name, value) in upstream.headers().iter().filter(|(name, _)| !hop_by_hop.contains(&name.as_str())) {
        response = response.header(name, value);
    }
    response.body(Body::from(upstream.bytes().await.unwrap())).unwrap()
}
