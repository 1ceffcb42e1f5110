//! The Redis backend against a real `redis-server` (one per test, [`RedisServer`]): the contract suite, the key
//! layout, settings, and faults (a server killed and restarted, a server frozen).

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::endpoint::Endpoint;
use super::{RedisOptions, RedisStore};
use crate::random::random_bytes;
use crate::store::error::StoreError;
use crate::store::shared::{Expect, Kind, Notice, SharedStore, StoreKey};
use crate::store::suite::{later, version};
use redis_test_server::{RedisServer, free_port};

/// A prefix no other test uses.
fn fresh_prefix() -> String {
    format!("test:{:016x}:", u64::from_be_bytes(random_bytes::<8>()))
}

fn options(key_prefix: &str, timeout: Duration) -> RedisOptions {
    RedisOptions { key_prefix: key_prefix.to_owned(), timeout }
}

/// Keeps `server` running until the test's runtime ends (its tasks are dropped then, and the server with them):
/// for the suite, whose closure returns the stores alone.
fn keep_for_this_test(server: RedisServer) {
    tokio::spawn(async move {
        let _server = server;
        std::future::pending::<()>().await;
    });
}

/// Two stores on a fresh server of the test's own (under a fresh prefix): for the tiers' suites too.
pub(crate) async fn fresh_handles() -> (Arc<dyn SharedStore>, Arc<dyn SharedStore>) {
    let server = RedisServer::start().await;
    let prefix = fresh_prefix();
    let a = RedisStore::connect(&server.url(), options(&prefix, Duration::from_secs(2))).await.unwrap();
    let b = RedisStore::connect(&server.url(), options(&prefix, Duration::from_secs(2))).await.unwrap();
    keep_for_this_test(server);
    (Arc::new(a) as Arc<dyn SharedStore>, Arc::new(b) as Arc<dyn SharedStore>)
}

crate::store::suite::shared_store_suite!(redis_store, fresh_handles);

async fn raw_connection(server: &RedisServer) -> ::redis::aio::MultiplexedConnection {
    ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
async fn keys_have_the_documented_layout_and_hold_the_version_then_the_bytes() {
    let server = RedisServer::start().await;
    let prefix = fresh_prefix();
    let store = RedisStore::connect(&server.url(), options(&prefix, Duration::from_secs(2))).await.unwrap();
    let name: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
    let tokens = StoreKey { kind: Kind::Tokens, name };
    let lease = StoreKey { kind: Kind::RefreshLease, name };
    let session = StoreKey { kind: Kind::Session, name: [0xfe; 32] };
    let expires_at = later();
    let v = version(store.put(&tokens, Expect::Absent, b"\0tokens\xff", expires_at).await.unwrap());
    store.put(&lease, Expect::Absent, b"lease", expires_at).await.unwrap();
    store.put(&session, Expect::Any, b"session", expires_at).await.unwrap();

    let mut raw = raw_connection(&server).await;
    let mut keys: Vec<String> = ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut raw).await.unwrap();
    keys.sort();
    let hex = tokens.hex_name();
    assert_eq!(&hex[..6], "00070e");
    let mut expected = vec![
        format!("{prefix}{{{hex}}}:l"),
        format!("{prefix}{{{hex}}}:t"),
        format!("{prefix}{{{}}}:s", "fe".repeat(32)),
    ];
    expected.sort();
    assert_eq!(keys, expected);

    let tokens_key = format!("{prefix}{{{hex}}}:t");
    let stored: Vec<u8> = ::redis::cmd("GET").arg(&tokens_key).query_async(&mut raw).await.unwrap();
    assert_eq!(stored, [&v.to_be_bytes()[..], b"\0tokens\xff"].concat());
    let expiry_ms: i64 = ::redis::cmd("PEXPIRETIME").arg(&tokens_key).query_async(&mut raw).await.unwrap();
    assert_eq!(expiry_ms, (expires_at * 1000 - 1) as i64, "gone from expires_at's first millisecond");
}

#[tokio::test]
async fn counts_escape_glob_characters_in_the_prefix() {
    let server = RedisServer::start().await;
    let base = fresh_prefix();
    let url = server.url();
    let starred = RedisStore::connect(&url, options(&format!("{base}a*"), Duration::from_secs(2))).await.unwrap();
    let plain = RedisStore::connect(&url, options(&format!("{base}ab"), Duration::from_secs(2))).await.unwrap();
    starred.put(&StoreKey { kind: Kind::Tokens, name: [1; 32] }, Expect::Any, b"x", later()).await.unwrap();
    for name in [2, 3] {
        plain.put(&StoreKey { kind: Kind::Tokens, name: [name; 32] }, Expect::Any, b"x", later()).await.unwrap();
    }
    assert_eq!(starred.count(Kind::Tokens).await.unwrap(), 1);
    assert_eq!(plain.count(Kind::Tokens).await.unwrap(), 2);
}

#[test]
fn invalid_urls_are_refused_clearly_without_repeating_them() {
    for url in [
        "",
        "127.0.0.1:6379",
        "http://user:s3cret@127.0.0.1:6379",
        "unix:///run/redis.sock",
        "redis://",
        "rediss://user:s3cret@cache.internal:6380/#insecure",
        "redis://user:s3cret@cache.internal/not-a-number",
    ] {
        let error = Endpoint::parse(url).expect_err(url).to_string();
        assert!(error.contains("invalid Redis URL"), "{url}: {error}");
        assert!(!error.contains("s3cret"), "{url}: {error}");
    }
    for url in ["redis://127.0.0.1", "rediss://cache.internal:6380/2", "redis://:pw@[::1]:7000"] {
        assert!(Endpoint::parse(url).is_ok(), "{url}");
    }
}

#[test]
fn the_server_is_shown_without_credentials() {
    let endpoint = Endpoint::parse("rediss://app:s3cret@cache.internal:6380/2").unwrap();
    assert_eq!(format!("{endpoint:?}"), "rediss://cache.internal:6380/2");
    let endpoint = Endpoint::parse("redis://:s3cret@127.0.0.1").unwrap();
    assert_eq!(format!("{endpoint}"), "redis://127.0.0.1:6379");
}

#[tokio::test]
async fn settings_that_would_break_the_layout_are_refused() {
    let url = "redis://127.0.0.1:1";
    for prefix in ["app{1}:", "}"] {
        let error = RedisStore::connect(url, options(prefix, Duration::from_secs(1))).await.unwrap_err();
        assert!(error.to_string().contains("invalid Redis key prefix"), "{error}");
    }
    let error = RedisStore::connect(url, options("msal:", Duration::ZERO)).await.unwrap_err();
    assert!(error.to_string().contains("invalid Redis timeout"), "{error}");
}

/// Asserts that `call` answers [`StoreError::Unavailable`] within `limit`.
async fn unavailable_within<T: Debug>(what: &str, limit: Duration, call: impl Future<Output = Result<T, StoreError>>) {
    let started = Instant::now();
    let outcome = call.await;
    let elapsed = started.elapsed();
    assert!(matches!(outcome, Err(StoreError::Unavailable(_))), "{what}: {outcome:?}");
    assert!(elapsed < limit, "{what} took {elapsed:?}");
}

#[tokio::test]
async fn connecting_to_no_server_is_unavailable_naming_the_host_never_the_password() {
    let port = free_port();
    let timeout = Duration::from_secs(1);
    let url = format!("redis://app:s3cret@127.0.0.1:{port}/0");
    let started = Instant::now();
    let error = RedisStore::connect(&url, options("msal:", timeout)).await.unwrap_err();
    assert!(started.elapsed() < timeout + Duration::from_secs(1), "took {:?}", started.elapsed());
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let shown = format!("{error} / {error:?}");
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[tokio::test]
async fn rediss_urls_speak_verified_tls_and_a_plain_server_is_unavailable() {
    let server = RedisServer::start().await;
    let port = server.url().rsplit(':').next().unwrap().to_owned();
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let error = RedisStore::connect(&format!("rediss://127.0.0.1:{port}"), options("msal:", timeout)).await;
    assert!(matches!(error, Err(StoreError::Unavailable(_))), "{error:?}");
    assert!(started.elapsed() < timeout + Duration::from_secs(1), "took {:?}", started.elapsed());
}

/// The next notice other than published ones, within `within`.
async fn next_lost(notices: &mut broadcast::Receiver<Notice>, within: Duration) -> bool {
    let wait = async {
        loop {
            match notices.recv().await {
                Ok(Notice::Lost) => return true,
                Ok(Notice::Published(_)) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    tokio::time::timeout(within, wait).await.unwrap_or(false)
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_quickly_and_a_restarted_one_serves_again_by_itself() {
    let timeout = Duration::from_secs(1);
    let limit = timeout + Duration::from_secs(1);
    let mut server = RedisServer::start().await;
    let prefix = fresh_prefix();
    let a = RedisStore::connect(&server.url(), options(&prefix, timeout)).await.unwrap();
    let b = RedisStore::connect(&server.url(), options(&prefix, timeout)).await.unwrap();
    let k = StoreKey { kind: Kind::Tokens, name: [7; 32] };
    a.put(&k, Expect::Absent, b"before", later()).await.unwrap();
    let mut heard = a.subscribe();

    server.stop().await;
    // Twice: the first calls meet the dropped connection, the later ones a reconnection that fails.
    for _ in 0..2 {
        unavailable_within("get", limit, a.get(&k)).await;
        unavailable_within("put", limit, a.put(&k, Expect::Any, b"during", later())).await;
        unavailable_within("delete", limit, a.delete(&k, Expect::Any)).await;
        unavailable_within("count", limit, a.count(Kind::Tokens)).await;
        unavailable_within("publish", limit, a.publish(b"during")).await;
    }
    assert!(next_lost(&mut heard, Duration::from_secs(5)).await, "subscribers hear that notices may be lost");

    server.restart().await;
    // The restarted server is empty (nothing is saved): the store works again without being rebuilt.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut outcome = a.get(&k).await;
    while outcome.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        outcome = a.get(&k).await;
    }
    assert_eq!(outcome.unwrap(), None);
    let v = version(a.put(&k, Expect::Absent, b"after", later()).await.unwrap());
    let mut seen_by_b = b.get(&k).await;
    while seen_by_b.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen_by_b = b.get(&k).await;
    }
    assert_eq!(seen_by_b.unwrap().map(|entry| (entry.version, entry.value)), Some((v, b"after".to_vec())));

    // Once re-subscribed (a second Lost), notices from the other instance arrive again.
    assert!(next_lost(&mut heard, Duration::from_secs(10)).await, "a Lost once re-subscribed");
    let mut arrived = false;
    while !arrived && Instant::now() < deadline + Duration::from_secs(5) {
        let _ = b.publish(b"after restart").await;
        let wait = async {
            loop {
                match heard.recv().await {
                    Ok(Notice::Published(notice)) if notice == b"after restart" => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("the notice channel closed"),
                }
            }
        };
        arrived = tokio::time::timeout(Duration::from_millis(300), wait).await.is_ok();
    }
    assert!(arrived, "notices arrive again after the restart");
}

#[tokio::test]
async fn a_frozen_server_is_unavailable_within_the_timeout_and_serves_again_when_it_resumes() {
    let timeout = Duration::from_millis(500);
    let limit = timeout + Duration::from_secs(1);
    let server = RedisServer::start().await;
    let store = RedisStore::connect(&server.url(), options(&fresh_prefix(), timeout)).await.unwrap();
    let k = StoreKey { kind: Kind::Session, name: [3; 32] };
    store.put(&k, Expect::Absent, b"kept", later()).await.unwrap();

    server.pause().await;
    unavailable_within("get", limit, store.get(&k)).await;
    unavailable_within("put", limit, store.put(&k, Expect::Any, b"lost", later())).await;
    unavailable_within("publish", limit, store.publish(b"lost")).await;
    server.resume().await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut outcome = store.get(&k).await;
    while outcome.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        outcome = store.get(&k).await;
    }
    // The write that timed out may have been applied once Redis resumed: either value is right.
    let value = outcome.unwrap().expect("the entry survives a freeze").value;
    assert!(value == b"kept" || value == b"lost", "{value:?}");
}

#[tokio::test]
async fn dropping_the_store_ends_its_notice_task_and_connection() {
    let server = RedisServer::start().await;
    let store = RedisStore::connect(&server.url(), options(&fresh_prefix(), Duration::from_secs(2))).await.unwrap();
    let mut notices = store.subscribe();
    let mut raw = raw_connection(&server).await;
    let pubsub_clients = async |raw: &mut ::redis::aio::MultiplexedConnection| {
        let list: String = ::redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").query_async(raw).await.unwrap();
        list.lines().count()
    };
    assert_eq!(pubsub_clients(&mut raw).await, 1);

    drop(store);
    let closed = tokio::time::timeout(Duration::from_secs(2), notices.recv()).await;
    assert!(matches!(closed, Ok(Err(broadcast::error::RecvError::Closed))), "{closed:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pubsub_clients(&mut raw).await > 0 {
        assert!(Instant::now() < deadline, "the pub/sub connection is still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
