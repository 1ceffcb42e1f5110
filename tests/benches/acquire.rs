//! Silent acquisition: cache hits among up to a million cached users next to the physical floor, refresh
//! storms against the real provider, and requests arriving while a token is due for an early refresh.
//!
//! `cargo bench -p msal-tests --bench acquire` (figures in the README). Under `cargo test --benches` each
//! benchmark runs once, as a check that it still works.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt;
use futures::future::join_all;
use msal_runtime::{HomeAccountId, ScopeSet};
use msal_tests::bench_cache::{msal_cache, secret};
use msal_tests::{Browser, IdpSettings, TestApp, app_reading_mail, cache_entries};
use serde_json::json;
use tokio::runtime::Runtime;

/// Cached users of the cache-hit benchmarks: 1, 10,000 and 1,000,000 (`BENCH_USERS=n,m` overrides); under
/// `cargo test --benches`, 1 and 1,000.
fn user_counts() -> Vec<usize> {
    if let Ok(counts) = std::env::var("BENCH_USERS") {
        return counts.split(',').map(|n| n.trim().parse().expect("BENCH_USERS: numbers of users")).collect();
    }
    if std::env::args().any(|arg| arg == "--bench") { vec![1, 10_000, 1_000_000] } else { vec![1, 1_000] }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A cache hit among 1, 10,000 and 1,000,000 users, each next to the physical floor of the same run: a plain
/// `HashMap` from account id to the same tokens, looked up and the token's `Arc` cloned.
fn cache_hit(c: &mut Criterion) {
    let runtime = runtime();
    let scopes = ScopeSet::parse("Mail.Read").unwrap();
    let mut group = c.benchmark_group("cache_hit");
    group.throughput(Throughput::Elements(1));
    for users in user_counts() {
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
        // The partition key of the MSAL home account id `user<n>.bench` adds the issuer's id (as
        // `TokenCache::account_key` makes it): its suffix, computed once.
        let issuer = app.msal.token_cache().account_key("u").as_str()[1..].to_owned();
        let floor: HashMap<String, Arc<str>> =
            (0..users).map(|user| (format!("user{user}.bench{issuer}"), Arc::from(secret(user)))).collect();

        // Users in a scattered order, the same for both, so that each call finds its entry and token cold in
        // memory. The id is formatted per call, as a request has it in hand from its session (reading it from
        // a table of a million would add cold reads of the benchmark's own).
        let next = AtomicUsize::new(0);
        let scattered =
            || HomeAccountId::new(format!("user{}.bench{issuer}", next.fetch_add(7919, Ordering::Relaxed) % users));
        group.bench_function(format!("acquire_token_silent/{users}_users"), |b| {
            b.iter(|| {
                let account = scattered();
                let token = app.msal.acquire_token_silent(&account, &scopes).now_or_never();
                token.expect("a cache hit answers at once").expect("a cache hit")
            })
        });
        group.bench_function(format!("hashmap_and_arc_floor/{users}_users"), |b| {
            b.iter(|| {
                let account = scattered();
                Arc::clone(floor.get(account.as_str()).expect("every user is in the map"))
            })
        });
        let requests = runtime.block_on(app.idp.requests("POST /token"));
        assert_eq!(requests, 0, "cache hits never reach the provider");
        drop(floor);
        runtime.block_on(async move { drop(app) });
    }
    group.finish();
}

/// The access tokens of an exported partition, due as `due` says: `Expiring` inside the 5-minute buffer (a
/// request must wait for a refresh), `Early` past `refresh_on` an hour from expiry, `Fresh` neither. Imported,
/// they replace the cached ones (same keys) and leave the refresh token as it is (rotated or not).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    Fresh,
    Early,
    Expiring,
}

fn access_tokens_due(exported: &str, due: Due) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut partition: serde_json::Value = serde_json::from_str(exported).unwrap();
    let access_tokens = partition["AccessToken"].as_object_mut().unwrap();
    for token in access_tokens.values_mut() {
        let token = token.as_object_mut().unwrap();
        let expires_on = if due == Due::Expiring { now + 120 } else { now + 3600 };
        token.insert("expires_on".into(), json!(expires_on.to_string()));
        token.remove("refresh_on");
        if due == Due::Early {
            token.insert("refresh_on".into(), json!((now - 60).to_string()));
        }
    }
    json!({ "AccessToken": access_tokens }).to_string()
}

/// Before each storm (untimed) every user's access token is put inside the 5-minute buffer; the refresh gives an
/// hour-long one, so that a refresh landing mid-storm serves the requests that come after it.
fn refresh_storm(c: &mut Criterion) {
    let runtime = runtime();
    let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    let (app, accounts) = runtime.block_on(async {
        let app = app_reading_mail().await;
        app.idp.settings(IdpSettings::new().rotate_refresh_token(true)).await;
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
                    let msal = &app.msal;
                    let cache = msal.token_cache();
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iterations {
                        for account in &accounts[..storm_users] {
                            let exported = cache.export_msal_json(account).await.unwrap().unwrap();
                            cache.import_msal_json(&access_tokens_due(&exported, Due::Expiring)).await.unwrap();
                        }
                        let start = Instant::now();
                        let requests = accounts[..storm_users]
                            .iter()
                            .flat_map(|account| (0..50).map(move |_| msal.acquire_token_silent(account, scopes)));
                        for token in join_all(requests).await {
                            token.expect("every request of the storm gets a token");
                        }
                        elapsed += start.elapsed();
                    }
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

/// 50 concurrent requests of one user whose token is due for an early refresh (past `refresh_on`, an hour
/// from expiry), next to the same storm with a token that is not due: the requests of both are served from
/// the cache, and the due one starts a single refresh in the background, which nobody waits for.
fn early_refresh(c: &mut Criterion) {
    let runtime = runtime();
    let (app, account) = runtime.block_on(async {
        let app = app_reading_mail().await;
        app.idp
            .settings(IdpSettings::new().access_token_ttl(Duration::from_secs(7200)).rotate_refresh_token(false))
            .await;
        let browser = Browser::new();
        app.sign_in(&browser, "/", "alice").await;
        let account = app.account(&browser).await;
        (Arc::new(app), account)
    });
    let scopes = ScopeSet::parse("Mail.Read").unwrap();
    let cached_secret = || async {
        let json = app.msal.token_cache().export_msal_json(&account).await.unwrap().unwrap();
        cache_entries(&serde_json::from_str(&json).unwrap(), "AccessToken")[0]["secret"].clone()
    };

    let mut group = c.benchmark_group("early_refresh");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for (name, due) in [("50_requests_token_not_due", Due::Fresh), ("50_requests_token_due_for_refresh", Due::Early)] {
        let (refreshes, storms) = (AtomicUsize::new(0), AtomicUsize::new(0));
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let (app, account, scopes) = (Arc::clone(&app), &account, &scopes);
                let (refreshes, storms, cached_secret) = (&refreshes, &storms, &cached_secret);
                async move {
                    let cache = app.msal.token_cache();
                    let before = app.idp.grants("refresh_token").await;
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iterations {
                        let exported = cache.export_msal_json(account).await.unwrap().unwrap();
                        cache.import_msal_json(&access_tokens_due(&exported, due)).await.unwrap();
                        let imported = cached_secret().await;
                        let start = Instant::now();
                        let storm = (0..50).map(|_| app.msal.acquire_token_silent(account, scopes));
                        for token in join_all(storm).await {
                            // The token imported, or (if the machine paused the storm long enough for the
                            // background refresh to land) the one that replaced it: both from the cache.
                            token.expect("every request of the storm gets a token");
                        }
                        elapsed += start.elapsed();
                        // Untimed: the background refresh lands before the next storm puts the due token back.
                        while due == Due::Early && cached_secret().await == imported {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                    refreshes.fetch_add((app.idp.grants("refresh_token").await - before) as usize, Ordering::Relaxed);
                    storms.fetch_add(iterations as usize, Ordering::Relaxed);
                    elapsed
                }
            })
        });
        let (refreshes, storms) = (refreshes.into_inner(), storms.into_inner());
        eprintln!("early_refresh/{name}: {refreshes} background refreshes for {storms} storms");
        let expected = if due == Due::Early { storms } else { 0 };
        assert_eq!(refreshes, expected, "one background refresh per storm of a due token");
    }
    group.finish();
}

criterion_group!(benches, cache_hit, refresh_storm, early_refresh);
criterion_main!(benches);
