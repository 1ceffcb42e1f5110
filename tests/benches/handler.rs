//! The cost of `#[requires_scopes]`: one request through an annotated handler and through the same handler
//! written with the `AccessTokenFor` extractor by hand, both with a signed-in session and a cached token, in
//! one router, in-process. `cargo bench -p msal-tests --bench handler` (figures in the README).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header::COOKIE};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use msal_runtime::{AccessToken, AccessTokenFor, RequiredScopes, requires_scopes};
use msal_tests::{Browser, TestApp};
use tower::ServiceExt;

#[requires_scopes("Mail.Read")]
async fn annotated(token: AccessToken) -> String {
    token.secret().len().to_string()
}

struct MailRead;
impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

async fn by_hand(token: AccessTokenFor<MailRead>) -> String {
    token.secret().len().to_string()
}

fn handlers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (app, cookie) = runtime.block_on(async {
        let app = TestApp::start_with(|config| config.initial_scopes(["Mail.Read"])).await;
        let browser = Browser::new();
        app.sign_in(&browser, "/", "alice").await;
        let cookie = browser.cookie_header(&app.origin).expect("a session cookie");
        (app, cookie)
    });
    let router: Router =
        Router::new().route("/annotated", get(annotated)).route("/by-hand", get(by_hand)).with_state(app.msal.clone());

    let mut group = c.benchmark_group("handler");
    for path in ["/annotated", "/by-hand"] {
        group.bench_function(path.trim_start_matches('/'), |b| {
            b.to_async(&runtime).iter(|| {
                let request = Request::get(path).header(COOKIE, &cookie).body(Body::empty()).unwrap();
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        });
    }
    group.finish();
    assert_eq!(runtime.block_on(app.idp.grants("refresh_token")), 0, "every request was a cache hit");
}

criterion_group!(benches, handlers);
criterion_main!(benches);
