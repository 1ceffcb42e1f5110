//! Every Rust snippet of the README is code that compiles: each is written here (or is a part of the example
//! app or its tests), and `every_rust_snippet_of_the_readme_is_compiled_code` fails when a snippet and its
//! compiled copy drift apart. A snippet is compared a paragraph (lines up to a blank line) at a time, each
//! line without its indentation, so that a snippet may show parts of one file without what lies between.

// The snippets are compiled, not run.
#![allow(dead_code)]

use std::path::Path;

/// README "Quick start".
mod quick_start {
    use std::time::Duration;

    use axum::{Router, http::StatusCode, routing::get};
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use msal_runtime::{Msal, SignedInUser};
    use tower_http::timeout::TimeoutLayer;

    async fn home(user: Option<SignedInUser>) -> String {
        match user {
            Some(user) => format!("Hello, {}", user.name().unwrap_or("there")),
            None => "Not signed in: visit /auth/signin".to_owned(),
        }
    }

    #[tokio::main]
    async fn main() -> Result<(), Box<dyn std::error::Error>> {
        let msal = Msal::from_env().await?; // discovery, signing keys, stores, secure defaults
        let app: Router = Router::new()
            .route("/", get(home))
            .merge(msal.routes()) // /auth/signin, the callback, /auth/signout
            .with_state(msal) // the extractors find the runtime in the router's state
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)));
        // hyper's HTTP/1 server, not `axum::serve`, which never closes a connection that sends half a request:
        // this one closes a connection whose request head is not in within 10 s.
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone())));
        }
    }
}

/// README "Web APIs: app-only callers and on-behalf-of", the app's own tokens.
mod app_only_tokens {
    use msal_runtime::{Msal, ScopeSet};
    use reqwest::header::AUTHORIZATION;
    use url::Url;

    async fn mailbox_count(msal: &Msal, mail_api: &Url) -> Result<String, Box<dyn std::error::Error>> {
        let scopes = ScopeSet::parse("api://mail-api/.default")?;
        let token = msal.acquire_token_for_app(&scopes).await?; // cached; one provider call for concurrent requests
        let response = reqwest::Client::new()
            .get(mail_api.join("admin/mailboxes/count")?)
            .header(AUTHORIZATION, token.authorization_header())
            .send()
            .await?;
        Ok(response.error_for_status()?.text().await?)
    }
}

/// README "Quick start", state of the app's own.
mod app_state {
    use axum::extract::FromRef;
    use msal_runtime::Msal;
    use url::Url;

    #[derive(Clone)]
    struct AppState {
        msal: Msal,
        mail_api: Url,
    }

    impl FromRef<AppState> for Msal {
        fn from_ref(state: &AppState) -> Msal {
            state.msal.clone()
        }
    }
}

/// README "Calling an API on the user's behalf".
mod calling_an_api {
    use axum::extract::{FromRef, State};
    use axum::response::Redirect;
    use axum::routing::post;
    use axum::{Form, Router};
    use msal_runtime::Msal;
    use msal_runtime::{AccessToken, error::DownstreamError, requires_scopes};
    use serde::{Deserialize, Serialize};

    #[derive(Clone)]
    struct MailApi {
        client: reqwest::Client,
        url: String,
    }

    #[derive(Deserialize, Serialize)]
    struct Mail {
        to: String,
        body: String,
    }

    #[requires_scopes("Mail.Send")]
    async fn send(
        token: AccessToken,
        State(api): State<MailApi>,
        Form(mail): Form<Mail>,
    ) -> Result<Redirect, DownstreamError> {
        token.call(api.client.post(&api.url).json(&mail)).await?.error_for_status()?;
        Ok(Redirect::to("/mail"))
    }

    #[derive(Clone)]
    struct AppState {
        msal: Msal,
        mail_api: MailApi,
    }

    impl FromRef<AppState> for Msal {
        fn from_ref(state: &AppState) -> Msal {
            state.msal.clone()
        }
    }

    impl FromRef<AppState> for MailApi {
        fn from_ref(state: &AppState) -> MailApi {
            state.mail_api.clone()
        }
    }

    fn app(msal: Msal, mail_api: MailApi) -> Router {
        let routes = Router::new().route("/mail/send", post(send));
        // On the routes that call APIs: an API's challenge, returned with `?`, sends the user to the provider.
        let routes = routes.layer(axum::middleware::from_fn_with_state(msal.clone(), msal_runtime::answer_challenges));
        routes.merge(msal.routes()).with_state(AppState { msal, mail_api })
    }
}

/// README "Calling an API on the user's behalf", a rejection answered the app's own way.
mod own_answers {
    use axum::response::{Html, IntoResponse, Response};
    use msal_runtime::error::AccessTokenForRejection;
    use msal_runtime::{AccessTokenFor, RequiredScopes};

    struct MailSend;
    impl RequiredScopes for MailSend {
        const SCOPES: &'static [&'static str] = &["Mail.Send"];
    }

    async fn send_mail(token: AccessTokenFor<MailSend>) -> Response {
        format!("sent with a token expiring at {:?}", token.expires_on()).into_response()
    }

    async fn send(token: Result<AccessTokenFor<MailSend>, AccessTokenForRejection>) -> Response {
        match token {
            Ok(token) => send_mail(token).await,
            Err(AccessTokenForRejection::InteractionRequired(interaction)) => {
                Html(format!("<a href=\"{}\">Allow sending mail</a>", interaction.consent_url())).into_response()
            }
            Err(other) => other.into_response(), // the default answer
        }
    }
}

/// README "Protecting a web API".
mod protecting_a_web_api {
    use axum::{Router, routing::get};
    use msal_runtime::error::ProtectedApiError;
    use msal_runtime::{Bearer, ProtectedApi, RequiredScopes};

    struct MailRead;
    impl RequiredScopes for MailRead {
        const SCOPES: &'static [&'static str] = &["Mail.Read"];
    }

    async fn list(caller: Bearer<MailRead>) -> String {
        format!("messages of {}", caller.subject())
    }

    async fn api(authority: &str) -> Result<Router, ProtectedApiError> {
        let api = ProtectedApi::new(authority, &["api://mail-api"]).await?;
        Ok(Router::new().route("/messages", get(list)).with_state(api)) // Bearer needs ProtectedApi: FromRef<S>
    }
}

/// README "Sharing a cache with other MSAL libraries".
mod sharing_a_cache {
    use msal_runtime::{HomeAccountId, Msal};

    async fn import(msal: &Msal, json_from_msal_python: String) -> Result<HomeAccountId, Box<dyn std::error::Error>> {
        let report = msal.token_cache().import_msal_json(&json_from_msal_python).await?;
        for skipped in &report.skipped {
            // app-only tokens, other authorities' entries, PoP tokens, malformed entries: listed, never fatal
            tracing::info!(section = %skipped.section, key = %skipped.key, reason = %skipped.reason, "not imported");
        }
        let alice = msal.token_cache().account_key("alice"); // their home_account_id → our partition key
        Ok(alice)
    }
}

/// README "Observing it".
mod observing_it {
    fn install_exporter() -> Result<(), Box<dyn std::error::Error>> {
        metrics_exporter_prometheus::PrometheusBuilder::new().with_http_listener(([127, 0, 0, 1], 9000)).install()?; // GET http://127.0.0.1:9000/metrics
        Ok(())
    }
}

/// Where the README's snippets may come from: this file, and the example app with its tests.
const COMPILED: &[&str] =
    &["tests/tests/readme_snippets.rs", "examples/mail-app/src", "examples/mail-app/tests", "examples/mail-api/src"];

#[test]
fn every_rust_snippet_of_the_readme_is_compiled_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let sources: Vec<(String, Vec<String>)> = COMPILED
        .iter()
        .flat_map(|path| rust_files(&root.join(path)))
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            (file.display().to_string(), text.lines().map(|line| line.trim().to_owned()).collect())
        })
        .collect();

    let snippets = rust_snippets(&readme);
    assert!(snippets.len() >= 6, "the README's Rust snippets were found: {}", snippets.len());
    let mut missing = Vec::new();
    for (line, snippet) in &snippets {
        for paragraph in snippet.split(|line| line.is_empty()).filter(|paragraph| !paragraph.is_empty()) {
            let found =
                sources.iter().any(|(_, lines)| lines.windows(paragraph.len()).any(|window| window == paragraph));
            if !found {
                missing.push(format!("README.md:{line}:\n{}", paragraph.join("\n")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README snippets that no compiled file holds (add them here, or copy them from the code):\n\n{}",
        missing.join("\n\n")
    );
}

/// The ```rust blocks of `markdown`: the line each starts on, and its lines without indentation.
fn rust_snippets(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut snippets = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (number, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.starts_with("```rust") => current = Some((number + 1, Vec::new())),
            None => {}
            Some(_) if line.starts_with("```") => snippets.push(current.take().unwrap()),
            Some((_, lines)) => lines.push(line.trim().to_owned()),
        }
    }
    snippets
}

fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn rust_blocks_are_read_with_the_line_they_start_on() {
    let readme = "text\n```rust\nfn a() {}\n\n    let b = 1;\n```\n```sh\nls\n```\n";
    assert_eq!(rust_snippets(readme), [(2, vec!["fn a() {}".to_owned(), String::new(), "let b = 1;".to_owned()])]);
}
