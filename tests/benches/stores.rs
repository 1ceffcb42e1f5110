//! The token cache over each store, side by side in one run: an L1 hit (in process memory; the memory store
//! alone is the baseline), an L2 hit (the user is not in the L1: one read of Redis or of the embedded file,
//! opened and parsed), and a miss (a user with no tokens: one read that finds nothing).
//!
//! `cargo bench -p msal-tests --bench stores` (figures in the README). Under `cargo test --benches` each
//! benchmark runs once, as a check that it still works.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use msal_runtime::{HomeAccountId, MsalConfigBuilder, ScopeSet};
use msal_tests::RedisServer;
use msal_tests::TestApp;
use msal_tests::bench_cache::msal_cache;
use tokio::runtime::Runtime;

/// Users in each cache.
const USERS: usize = 1_000;
/// The L1's bound when L2 hits are measured: far fewer than the users looked up in turn, so each lookup misses
/// the L1.
const SMALL_L1: usize = 16;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A fresh embedded store's path.
fn embedded_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("msal-bench-{}-{name}", std::process::id())).join("msal.sqlite3")
}

/// An app whose cache holds [`USERS`] users, configured by `store`.
async fn app_with(store: impl FnOnce(MsalConfigBuilder) -> MsalConfigBuilder) -> TestApp {
    let app = TestApp::start_with(|config| store(config.initial_scopes(["Mail.Read"]))).await;
    for first in (0..USERS).step_by(250) {
        app.msal.token_cache().import_msal_json(&msal_cache(first, 250, "mail-app")).await.unwrap();
    }
    app
}

fn stores(c: &mut Criterion) {
    let runtime = runtime();
    let redis = runtime.block_on(RedisServer::start());
    let redis_store = |l1: usize| {
        let url = redis.url();
        move |config: MsalConfigBuilder| {
            config.token_cache(url).store_keys([[3; 32]]).cookie_key([4; 64]).max_cached_users(l1)
        }
    };
    let embedded_store = |name: &str, l1: usize| {
        let path = embedded_path(name).to_str().unwrap().to_owned();
        move |config: MsalConfigBuilder| config.token_cache(path).max_cached_users(l1)
    };
    let apps = runtime.block_on(async {
        vec![
            ("memory/l1_hit", app_with(|config| config.token_cache("memory")).await),
            ("redis/l1_hit", app_with(redis_store(USERS * 2)).await),
            ("embedded/l1_hit", app_with(embedded_store("l1", USERS * 2)).await),
            ("redis/l2_hit", app_with(redis_store(SMALL_L1)).await),
            ("embedded/l2_hit", app_with(embedded_store("l2", SMALL_L1)).await),
        ]
    });
    let scopes = ScopeSet::parse("Mail.Read").unwrap();
    let mut group = c.benchmark_group("stores");
    group.throughput(Throughput::Elements(1));
    for (name, app) in &apps {
        // Each app has a provider of its own: its issuer is part of the partition keys.
        let cache = app.msal.token_cache();
        let accounts: Vec<HomeAccountId> =
            (0..USERS).map(|user| cache.account_key(&format!("user{user}.bench"))).collect();
        let mut next = 0;
        group.bench_function(*name, |b| {
            b.to_async(&runtime).iter(|| {
                next = (next + 1) % USERS;
                let (msal, account, scopes) = (&app.msal, &accounts[next], &scopes);
                async move { msal.acquire_token_silent(account, scopes).await.expect("a cached token") }
            })
        });
    }
    // A miss: users the store has never seen.
    let nobody: Vec<HomeAccountId> = (0..USERS).map(|user| HomeAccountId::new(format!("nobody{user}"))).collect();
    for (name, app) in [("redis/miss", &apps[3].1), ("embedded/miss", &apps[4].1)] {
        let mut next = 0;
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                next = (next + 1) % USERS;
                let (msal, account, scopes) = (&app.msal, &nobody[next], &scopes);
                async move { msal.acquire_token_silent(account, scopes).await.expect_err("no tokens") }
            })
        });
    }
    group.finish();
    for name in ["l1", "l2"] {
        let _ = std::fs::remove_dir_all(embedded_path(name).parent().unwrap());
    }
    // The L2 benchmarks were L2 hits: the provider was never asked.
    for (name, app) in &apps {
        assert_eq!(runtime.block_on(app.idp.requests("POST /token")), 0, "{name}");
    }
}

criterion_group!(benches, stores);
criterion_main!(benches);
