//! What an operator sees: the metrics and spans of one sign-in and one refresh, read back from a recorder and
//! a subscriber installed for this test binary alone (both are process-wide).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use msal_runtime::telemetry;
use msal_tests::{Browser, IdpSettings, TestApp, cache_entries};
use reqwest::StatusCode;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the subscriber saw it: its name, its fields, and whether it closed.
#[derive(Debug, Clone, Default)]
struct SeenSpan {
    name: String,
    fields: HashMap<String, String>,
    closed: bool,
}

#[derive(Clone, Default)]
struct Spans(Arc<Mutex<HashMap<u64, SeenSpan>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut span = SeenSpan { name: attributes.metadata().name().to_owned(), ..SeenSpan::default() };
        attributes.record(&mut Fields(&mut span.fields));
        self.0.lock().unwrap().insert(id.into_u64(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            span.closed = true;
        }
    }
}

impl Spans {
    fn named(&self, name: &str) -> Vec<SeenSpan> {
        self.0.lock().unwrap().values().filter(|span| span.name == name).cloned().collect()
    }

    fn all(&self) -> Vec<SeenSpan> {
        self.0.lock().unwrap().values().cloned().collect()
    }
}

type Metrics = Vec<(metrics_util::CompositeKey, DebugValue)>;

/// The values of the metric `name` with (at least) `labels`.
fn values<'a>(
    snapshot: &'a Metrics,
    name: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a DebugValue> {
    snapshot.iter().filter_map(move |(key, value)| {
        let key = key.key();
        let labelled = labels.iter().all(|(k, v)| key.labels().any(|label| label.key() == *k && label.value() == *v));
        (key.name() == name && labelled).then_some(value)
    })
}

/// A counter's value by its name and labels (summed over the other labels).
fn counter(snapshot: &Metrics, name: &str, labels: &[(&str, &str)]) -> u64 {
    values(snapshot, name, labels).map(|value| if let DebugValue::Counter(n) = value { *n } else { 0 }).sum()
}

/// How many samples a histogram holds, by its name and labels.
fn samples(snapshot: &Metrics, name: &str, labels: &[(&str, &str)]) -> usize {
    values(snapshot, name, labels).map(|value| if let DebugValue::Histogram(v) = value { v.len() } else { 0 }).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_and_a_refresh_are_reported_as_metrics_and_spans_without_tokens() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).expect("the only recorder of this test binary");
    let spans = Spans::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(spans.clone()))
        .expect("the only subscriber of this test binary");

    // The embedded store, so that store calls are reported too.
    let dir = std::env::temp_dir().join(format!("msal-observability-{}", std::process::id()));
    let path = dir.join("msal.sqlite3").to_str().unwrap().to_owned();
    let app = TestApp::start_with(|config| config.token_cache(path).initial_scopes(["Mail.Read"])).await;
    // An access token inside the 5-minute buffer: the first inbox visit refreshes it.
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    app.idp.settings(IdpSettings::new().access_token_ttl(Duration::from_secs(3600))).await;
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK, "refreshed");
    assert_eq!(browser.get(app.url("/mail")).await.status(), StatusCode::OK, "a cache hit");

    // Metrics.
    // A snapshot takes what was recorded (the recorder starts over): one, read many times.
    let snapshot: Metrics =
        snapshotter.snapshot().into_vec().into_iter().map(|(key, _, _, value)| (key, value)).collect();
    assert_eq!(counter(&snapshot, telemetry::SIGN_INS, &[("outcome", "signed_in")]), 1);
    let code = [("grant", "authorization_code"), ("outcome", "ok")];
    assert_eq!(counter(&snapshot, telemetry::PROVIDER_REQUESTS, &code), 1);
    let refresh = [("grant", "refresh_token"), ("outcome", "ok")];
    assert_eq!(counter(&snapshot, telemetry::PROVIDER_REQUESTS, &refresh), 1);
    assert_eq!(samples(&snapshot, telemetry::PROVIDER_REQUEST_SECONDS, &[("grant", "refresh_token")]), 1);
    assert!(counter(&snapshot, telemetry::CACHE_LOOKUPS, &[("tier", "l1"), ("outcome", "hit")]) >= 1);
    assert!(counter(&snapshot, telemetry::CACHE_LOOKUPS, &[("tier", "store"), ("outcome", "miss")]) >= 1);
    assert!(counter(&snapshot, telemetry::STORE_CALLS, &[("op", "put"), ("outcome", "ok")]) >= 2);
    assert!(samples(&snapshot, telemetry::STORE_CALL_SECONDS, &[("op", "get")]) >= 1);
    assert_eq!(counter(&snapshot, telemetry::STORE_CALLS, &[("outcome", "error")]), 0);

    // Spans, closed, with their outcomes.
    let closed_with = |name: &str, field: &str, value: &str| {
        spans.named(name).iter().any(|span| span.closed && span.fields.get(field).map(String::as_str) == Some(value))
    };
    assert!(spans.named("sign_in").iter().any(|span| span.closed), "{:?}", spans.named("sign_in"));
    assert!(closed_with("callback", "outcome", "signed_in"), "{:?}", spans.named("callback"));
    assert!(closed_with("token_request", "grant", "authorization_code"));
    assert!(closed_with("refresh", "outcome", "ok"), "{:?}", spans.named("refresh"));
    assert!(closed_with("token_request", "grant", "refresh_token"));
    assert!(closed_with("store", "op", "put"));

    // No token anywhere in what was reported.
    let tokens = app.cached_tokens(&browser).await.unwrap();
    let secrets: Vec<String> = ["AccessToken", "RefreshToken", "IdToken"]
        .iter()
        .flat_map(|kind| cache_entries(&tokens, kind))
        .map(|entry| entry["secret"].as_str().unwrap().to_owned())
        .collect();
    assert!(!secrets.is_empty());
    for span in spans.all() {
        for value in span.fields.values() {
            assert!(!secrets.iter().any(|secret| value.contains(secret.as_str())), "{}: {value}", span.name);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
