//! What `#[requires_scopes]` costs per request (signed-in session, cached token), against the same handler with
//! no authentication, in one run:
//!
//! - **in-process** (criterion, one request through the router with `oneshot`): the handler bare, annotated,
//!   and written by hand with `AccessTokenFor`, and annotated in an app whose store is Redis
//!   (`/redis-annotated`, its own session and token in the L1 in front of Redis); the added µs are annotated − bare, from
//!   criterion's medians;
//! - **over loopback HTTP**: the same router served by hyper on 127.0.0.1, a load generator in this file
//!   ([`CONNECTIONS`] keep-alive connections, each sending its requests back to back), [`PAIRS`] pairs of short
//!   rounds, one of each handler, so that both see the same machine load; req/s of each round, the medians, and
//!   the median of the pairs' ratios; then the same for the annotated handler with the memory store against
//!   the annotated handler with Redis behind it.
//!
//! `cargo bench -p msal-tests --bench handler` (figures in the README); a criterion filter picks benchmarks
//! (`-- in_process`, `-- loopback`). Under `cargo test --benches` (no `--bench` argument) each benchmark runs
//! once, briefly, as a check that it still works: every request must succeed, none may refresh a token.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header::COOKIE};
use axum::routing::get;
use criterion::Criterion;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use msal_runtime::{AccessToken, AccessTokenFor, MsalConfigBuilder, RequiredScopes, requires_scopes};
use msal_tests::RedisServer;
use msal_tests::{Browser, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The handler with no authentication: the same body, on a string of its own.
async fn bare() -> String {
    "no token here".len().to_string()
}

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

/// Keep-alive connections of the load generator.
const CONNECTIONS: usize = 16;
/// Pairs of rounds over loopback, one round of each handler, after a warm-up round each. Within a pair the
/// order alternates (bare first, then annotated first), so that a drift in the machine's load favours neither.
const PAIRS: usize = 30;
/// How long a measured round lasts: short, so that the two rounds of a pair see the same load.
const ROUND_TIME: Duration = Duration::from_secs(1);
/// A bound on the requests of one connection in one round, whatever the machine's speed.
const MAX_REQUESTS_PER_CONNECTION: u64 = 2_000_000;
/// Requests per connection in the smoke check (`cargo test --benches`).
const SMOKE_REQUESTS_PER_CONNECTION: u64 = 20;

/// How the binary was asked to run, from the arguments criterion also reads.
struct Args {
    /// `cargo bench`: measure; otherwise (`cargo test --benches`, `--test`) run each benchmark once.
    measure: bool,
    /// `--profile-time`: criterion repeats the in-process benchmarks for a profiler; the loopback rounds stay
    /// out of the profile.
    profiling: bool,
    /// Criterion's positional filter (a regular expression for criterion; a substring here).
    filter: Option<String>,
}

impl Args {
    fn parse() -> Self {
        // Criterion's options that take a value (`--name value`), whose value is no filter.
        const WITH_VALUE: &[&str] = &[
            "--color",
            "--save-baseline",
            "--baseline",
            "--baseline-lenient",
            "--format",
            "--profile-time",
            "--load-baseline",
            "--sample-size",
            "--warm-up-time",
            "--measurement-time",
            "--nresamples",
            "--noise-threshold",
            "--confidence-level",
            "--significance-level",
            "--plotting-backend",
            "--output-format",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let flag = |name: &str| args.iter().any(|arg| arg == name || arg.starts_with(&format!("{name}=")));
        let mut filter = None;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if WITH_VALUE.contains(&arg.as_str()) {
                rest.next();
            } else if !arg.starts_with('-') && filter.is_none() {
                filter = Some(arg.clone());
            }
        }
        Args { measure: flag("--bench") && !flag("--test"), profiling: flag("--profile-time"), filter }
    }

    fn selects(&self, id: &str) -> bool {
        self.filter.as_deref().is_none_or(|filter| id.contains(filter) || filter.contains(id))
    }
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (app, cookie) = runtime.block_on(signed_in(|config| config));
    let redis = runtime.block_on(RedisServer::start());
    let url = redis.url();
    let (redis_app, redis_cookie) =
        runtime.block_on(signed_in(move |config| config.token_cache(url).store_keys([[3; 32]]).cookie_key([4; 64])));
    // Merged, not nested: a nested router would add its own prefix stripping to the Redis app's requests.
    let with_redis = Router::new().route("/redis-annotated", get(annotated)).with_state(redis_app.msal.clone());
    let router: Router = Router::new()
        .route("/bare", get(bare))
        .route("/annotated", get(annotated))
        .route("/by-hand", get(by_hand))
        .with_state(app.msal.clone())
        .merge(with_redis);
    let cookies = Cookies { memory: cookie, redis: redis_cookie };

    // Criterion's default place, named so that its estimates can be read back below.
    let output = criterion_directory();
    let mut criterion = Criterion::default().output_directory(&output).configure_from_args();
    let started = SystemTime::now();
    in_process(&mut criterion, &runtime, &router, &cookies);
    if args.measure && !args.profiling {
        report_added(&output, started);
    }
    if args.selects("loopback") && !args.profiling {
        runtime.block_on(loopback(&router, &cookies, args.measure));
    }
    criterion.final_summary();
    for app in [&app, &redis_app] {
        assert_eq!(runtime.block_on(app.idp.grants("refresh_token")), 0, "every request was a cache hit");
    }
}

/// Each app's signed-in session (the two apps have a provider each; their cookies share a name and host, so
/// each request carries its own app's).
struct Cookies {
    memory: String,
    redis: String,
}

impl Cookies {
    fn of(&self, path: &str) -> &str {
        if path.starts_with("/redis-") { &self.redis } else { &self.memory }
    }
}

/// An app reading mail, configured by `configure`, with alice signed in; her cookie header.
async fn signed_in(configure: impl FnOnce(MsalConfigBuilder) -> MsalConfigBuilder) -> (TestApp, String) {
    let app = TestApp::start_with(|config| configure(config.initial_scopes(["Mail.Read"]))).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let cookie = browser.cookie_header(&app.origin).expect("a session cookie");
    (app, cookie)
}

/// Where criterion writes by default when cargo runs the benchmark: `criterion` in the target directory.
fn criterion_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    // The binary is <target>/<profile>/deps/handler-<hash>; one copied elsewhere writes to the temporary folder.
    let exe = std::env::current_exe().expect("the benchmark's path");
    exe.ancestors().nth(3).map_or_else(std::env::temp_dir, Path::to_path_buf).join("criterion")
}

fn in_process(criterion: &mut Criterion, runtime: &Runtime, router: &Router, cookies: &Cookies) {
    let mut group = criterion.benchmark_group("in_process");
    for path in ["/bare", "/annotated", "/by-hand", "/redis-annotated"] {
        let cookie = HeaderValue::from_str(cookies.of(path)).unwrap();
        group.bench_function(path.trim_start_matches('/'), |b| {
            b.to_async(runtime).iter(|| {
                let request = Request::get(path).header(COOKIE, cookie.clone()).body(Body::empty()).unwrap();
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        });
    }
    group.finish();
}

/// Prints what the annotation adds to a request, from the medians criterion just measured.
fn report_added(output: &Path, started: SystemTime) {
    let median = |name: &str| -> Option<f64> {
        let file = output.join("in_process").join(name).join("new/estimates.json");
        // Only this run's: a filter may have skipped the benchmark, leaving an older run's file.
        if std::fs::metadata(&file).and_then(|meta| meta.modified()).ok()? < started {
            return None;
        }
        let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        estimates["median"]["point_estimate"].as_f64()
    };
    let (Some(bare), Some(annotated)) = (median("bare"), median("annotated")) else { return };
    let by_hand = median("by-hand").map_or_else(|| "-".to_owned(), |ns| format!("{:.3} µs", ns / 1000.0));
    println!(
        "\nin-process medians: bare {:.3} µs, annotated {:.3} µs, by hand {by_hand}",
        bare / 1000.0,
        annotated / 1000.0
    );
    println!("added by #[requires_scopes]: {:.3} µs per request\n", (annotated - bare) / 1000.0);
}

/// Pairs of bare and annotated rounds over loopback HTTP; in the smoke check, one short round each.
async fn loopback(router: &Router, cookies: &Cookies, measure: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, router.clone()));
    let request = |path: &str| -> Arc<[u8]> {
        let cookie = cookies.of(path);
        format!("GET {path} HTTP/1.1\r\nhost: {address}\r\ncookie: {cookie}\r\n\r\n").into_bytes().into()
    };
    let (bare, annotated, redis) = (request("/bare"), request("/annotated"), request("/redis-annotated"));

    if !measure {
        let load = Load { time: Duration::from_secs(30), max_requests: SMOKE_REQUESTS_PER_CONNECTION };
        for (name, request) in [("bare", &bare), ("annotated", &annotated), ("annotated with Redis", &redis)] {
            let round = round(address, request, load).await;
            assert_eq!(round.requests, CONNECTIONS as u64 * SMOKE_REQUESTS_PER_CONNECTION);
            println!("loopback/{name}: {} requests on {CONNECTIONS} connections, each answered 200", round.requests);
        }
        server.abort();
        return;
    }

    let load = Load { time: ROUND_TIME, max_requests: MAX_REQUESTS_PER_CONNECTION };
    pairs(address, load, ("bare", &bare), ("annotated", &annotated)).await;
    pairs(address, load, ("annotated", &annotated), ("annotated with Redis", &redis)).await;
    server.abort();
}

/// [`PAIRS`] pairs of rounds of `first` and `second` (after a warm-up round each): each round's req/s, the
/// medians, and the median of the pairs' ratios (second / first).
async fn pairs(address: std::net::SocketAddr, load: Load, first: (&str, &Arc<[u8]>), second: (&str, &Arc<[u8]>)) {
    let ((first_name, first), (second_name, second)) = (first, second);
    println!(
        "loopback: {CONNECTIONS} keep-alive connections, pairs of {ROUND_TIME:?} rounds, {first_name} and {second_name}"
    );
    round(address, first, load).await;
    round(address, second, load).await;
    let (mut first_rates, mut second_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 1..=PAIRS {
        let (f, s) = if pair % 2 == 1 {
            let f = round(address, first, load).await.per_second();
            (f, round(address, second, load).await.per_second())
        } else {
            let s = round(address, second, load).await.per_second();
            (round(address, first, load).await.per_second(), s)
        };
        println!("  pair {pair:>2}: {first_name} {f:>7.0} req/s, {second_name} {s:>7.0} req/s: {:.1}%", 100.0 * s / f);
        first_rates.push(f);
        second_rates.push(s);
        ratios.push(s / f);
    }
    let (f, s, ratio) = (median(&mut first_rates), median(&mut second_rates), median(&mut ratios));
    println!(
        "loopback medians: {first_name} {f:.0} req/s, {second_name} {s:.0} req/s; {second_name} is {:.1}% of {first_name}",
        100.0 * ratio
    );
    println!("  (the median of the pairs' ratios: the two rounds of a pair ran back to back, under the same load)\n");
}

/// Serves `router` as hyper's HTTP/1 server does, with nothing else on the connection.
async fn serve(listener: TcpListener, router: Router) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        stream.set_nodelay(true).unwrap();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
    }
}

/// The bounds of one round: each connection stops at `time` or after `max_requests`, whichever comes first.
#[derive(Clone, Copy)]
struct Load {
    time: Duration,
    max_requests: u64,
}

struct Round {
    requests: u64,
    elapsed: Duration,
}

impl Round {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// [`CONNECTIONS`] connections, each sending `request` back to back; every answer must be a 200.
async fn round(address: std::net::SocketAddr, request: &Arc<[u8]>, load: Load) -> Round {
    let mut streams = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let stream = TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        streams.push(stream);
    }
    let start = Instant::now();
    let deadline = start + load.time;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(connection(stream, Arc::clone(request), deadline, load.max_requests)))
        .collect();
    let mut requests = 0;
    for task in tasks {
        requests += task.await.unwrap();
    }
    Round { requests, elapsed: start.elapsed() }
}

/// One keep-alive connection's requests, one at a time; how many were answered 200 (any other answer panics).
async fn connection(mut stream: TcpStream, request: Arc<[u8]>, deadline: Instant, max_requests: u64) -> u64 {
    let mut buffer = Vec::with_capacity(4096);
    let mut sent = 0;
    while sent < max_requests && Instant::now() < deadline {
        stream.write_all(&request).await.unwrap();
        read_response(&mut stream, &mut buffer).await;
        sent += 1;
    }
    sent
}

/// Reads one response whose body has a `content-length`, and checks that it is a 200.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    buffer.clear();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, buffer).await;
    };
    let head = std::str::from_utf8(&buffer[..head_end]).expect("an ASCII response head");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .expect("a content-length");
    while buffer.len() < head_end + length {
        read_more(stream, buffer).await;
    }
    assert_eq!(buffer.len(), head_end + length, "one response at a time");
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    let mut chunk = [0; 4096];
    let read = stream.read(&mut chunk).await.unwrap();
    assert!(read > 0, "the server closed the connection");
    buffer.extend_from_slice(&chunk[..read]);
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[middle - 1] + values[middle]) / 2.0 } else { values[middle] }
}
