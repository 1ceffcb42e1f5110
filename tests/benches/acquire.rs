//! Silent acquisition: a cache hit among 100,000 cached users, and refresh storms against the real provider.
//!
//! `cargo bench -p msal-tests --bench acquire` (figures in the README). Under `cargo test --benches` each
//! benchmark runs once, as a check that it still works.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::future::join_all;
use msal_runtime::{HomeAccountId, ScopeSet};
use msal_tests::{Browser, IdpSettings, TestApp, app_reading_mail};
use serde_json::{Map, json};
use tokio::runtime::Runtime;

/// Cached users of the cache-hit benchmark (`BENCH_USERS` overrides, to compare with a warm CPU cache).
fn users() -> usize {
    std::env::var("BENCH_USERS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// An MSAL cache with `count` users, each with a 1 KiB access token for Mail.Read valid for a day.
fn msal_cache(first: usize, count: usize, client_id: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let secret = "x".repeat(1024);
    let (mut access, mut refresh, mut accounts) = (Map::new(), Map::new(), Map::new());
    for user in first..first + count {
        let home = format!("user{user}.bench");
        access.insert(
            format!("{home}-at"),
            json!({
                "credential_type": "AccessToken", "secret": secret, "home_account_id": home,
                "environment": "127.0.0.1", "client_id": client_id, "realm": "bench", "target": "Mail.Read",
                "cached_at": now.to_string(), "expires_on": (now + 86_400).to_string(),
                "extended_expires_on": (now + 86_400).to_string(), "token_type": "Bearer"
            }),
        );
        refresh.insert(
            format!("{home}-rt"),
            json!({
                "credential_type": "RefreshToken", "secret": "refresh", "home_account_id": home,
                "environment": "127.0.0.1", "client_id": client_id
            }),
        );
        accounts.insert(
            format!("{home}-account"),
            json!({
                "home_account_id": home, "environment": "127.0.0.1", "realm": "bench",
                "local_account_id": format!("user{user}"), "username": "", "authority_type": "Generic"
            }),
        );
    }
    json!({ "AccessToken": access, "RefreshToken": refresh, "Account": accounts }).to_string()
}

fn cache_hit(c: &mut Criterion) {
    let runtime = runtime();
    let users = users();
    let app = runtime.block_on(async {
        // Room for every user in every shard: the bound is per shard, and hashing never spreads exactly.
        let app = TestApp::start_with(|config| config.max_cached_users(2 * users)).await;
        for first in (0..users).step_by(10_000) {
            let count = 10_000.min(users - first);
            app.msal.token_cache().import_msal_json(&msal_cache(first, count, "mail-app")).await.unwrap();
        }
        assert_eq!(app.msal.token_cache().account_count().await.unwrap(), users);
        app
    });
    let scopes = ScopeSet::parse("Mail.Read").unwrap();
    let next = AtomicUsize::new(0);

    let mut group = c.benchmark_group("acquire_token_silent");
    group.throughput(Throughput::Elements(1));
    group.bench_function("cache_hit_100k_users", |b| {
        b.to_async(&runtime).iter(|| {
            // Users in a scattered order, so that each call finds its slot and token cold in memory. The id is
            // formatted here, as a request has it in hand from its session; reading it from a 100,000-entry
            // table would add two cold reads of the benchmark's own to every call.
            let user = next.fetch_add(7919, Ordering::Relaxed) % users;
            let account = HomeAccountId::new(format!("user{user}.bench"));
            let (msal, scopes) = (&app.msal, &scopes);
            async move { msal.acquire_token_silent(&account, scopes).await.expect("a cache hit") }
        })
    });
    group.finish();
    let before = runtime.block_on(app.idp.requests("POST /token"));
    assert_eq!(before, 0, "cache hits never reach the provider");
}

fn refresh_storm(c: &mut Criterion) {
    let runtime = runtime();
    let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    let (app, accounts) = runtime.block_on(async {
        let app = app_reading_mail().await;
        // Access tokens that always fall inside the 5-minute buffer: every storm must refresh.
        app.idp
            .settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120)).rotate_refresh_token(true))
            .await;
        let mut accounts = Vec::new();
        for user in users {
            let browser = Browser::new();
            app.sign_in(&browser, "/", user).await;
            accounts.push(app.account(&browser).await);
        }
        (Arc::new(app), accounts)
    });
    let scopes = ScopeSet::parse("Mail.Read").unwrap();

    let mut group = c.benchmark_group("refresh_storm");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for (name, storm_users) in [("1_user_x_50_requests", 1), ("8_users_x_50_requests", users.len())] {
        let refreshes = AtomicUsize::new(0);
        let storms = AtomicUsize::new(0);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let (app, accounts, scopes) = (Arc::clone(&app), &accounts, &scopes);
                let (refreshes, storms) = (&refreshes, &storms);
                async move {
                    let before = app.idp.grants("refresh_token").await;
                    let start = Instant::now();
                    let msal = &app.msal;
                    for _ in 0..iterations {
                        let requests = accounts[..storm_users]
                            .iter()
                            .flat_map(|account| (0..50).map(move |_| msal.acquire_token_silent(account, scopes)));
                        for token in join_all(requests).await {
                            token.expect("every request of the storm gets a token");
                        }
                    }
                    let elapsed = start.elapsed();
                    refreshes.fetch_add((app.idp.grants("refresh_token").await - before) as usize, Ordering::Relaxed);
                    storms.fetch_add(iterations as usize, Ordering::Relaxed);
                    elapsed
                }
            })
        });
        let (refreshes, storms) = (refreshes.into_inner(), storms.into_inner());
        eprintln!("refresh_storm/{name}: {refreshes} provider refreshes for {storms} storms of {} users", storm_users);
        assert_eq!(refreshes, storms * storm_users, "exactly one refresh per user per storm");
    }
    group.finish();
}

criterion_group!(benches, cache_hit, refresh_storm);
criterion_main!(benches);
