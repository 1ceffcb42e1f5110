//! Instances sharing a store (Redis, or the embedded file): the one-redemption, one-refresh and sign-out
//! guarantees hold across them, a restart keeps users signed in, nothing readable is stored, and a store
//! outage is survived.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::join_all;
use msal_tests::RedisServer;
use msal_tests::{AuthorizationResponse, Browser, Cluster, IdpSettings, cache_entries, location};
use reqwest::StatusCode;
use serde_json::json;

const COOKIE_KEY: [u8; 64] = [7; 64];
const STORE_KEY: [u8; 32] = [9; 32];

/// Instances on `redis`, sharing the cookie and store keys (as a deployment would).
async fn on_redis(redis: &RedisServer, instances: usize) -> Cluster {
    let url = redis.url();
    Cluster::start(instances, move |config| {
        config.token_cache(url.clone()).store_keys([STORE_KEY]).cookie_key(COOKIE_KEY).initial_scopes(["Mail.Read"])
    })
    .await
}

/// One instance on a fresh embedded store (its keys generated beside it); the store's path.
async fn on_embedded() -> (Cluster, PathBuf) {
    let path = embedded_path();
    let store = path.to_str().unwrap().to_owned();
    let cluster =
        Cluster::start(1, move |config| config.token_cache(store.clone()).initial_scopes(["Mail.Read"])).await;
    (cluster, path)
}

/// Alice signed in through the cluster, her inbox read; the token requests the provider has had so far.
async fn alice_reading_mail(cluster: &Cluster) -> (Browser, u64) {
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    (browser, cluster.idp.requests("POST /token").await)
}

/// Restarts the only instance on its store: the browser is still signed in and reads its inbox with the
/// cached token (no provider call since `token_requests`).
async fn restart_and_read_mail(cluster: &mut Cluster, browser: &Browser, token_requests: u64) {
    cluster.stop_instance(0).await;
    cluster.start_instance().await;
    assert_eq!(browser.get(cluster.url("/me")).await.status(), StatusCode::OK, "still signed in after the restart");
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    assert_eq!(cluster.idp.requests("POST /token").await, token_requests, "no provider call after the restart");
}

/// A fresh embedded store's path.
fn embedded_path() -> PathBuf {
    let name = format!("msal-e2e-{}-{}", std::process::id(), rand_suffix());
    std::env::temp_dir().join(name).join("msal.sqlite3")
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// `url` (at the public origin) at `instance`'s own origin instead.
fn at(instance: &msal_tests::Instance, url: &url::Url) -> String {
    instance.url(&format!("{}?{}", url.path(), url.query().unwrap_or_default()))
}

/// Polls `check` for up to `within`.
async fn eventually<F: std::future::Future<Output = bool>>(within: Duration, mut check: impl FnMut() -> F) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_on_the_other_instance_never_reaches_the_token_endpoint() {
    let redis = RedisServer::start().await;
    let cluster = on_redis(&redis, 2).await;
    let browser = Browser::new();
    let query = "return_url=%2Fmail";
    let start = browser.get(cluster.url(&format!("/auth/signin?{query}"))).await;
    let response = browser.authorize(location(&start), "alice", &cluster.origin).await;
    let AuthorizationResponse::Redirect(callback) = &response else { panic!("query response mode") };
    // The sign-in's cookie as the browser holds it before the first callback deletes it: every copy brings it.
    let cookies = browser.cookie_header(&cluster.origin).unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let deliver = |url: String| {
        let (client, cookies) = (client.clone(), cookies.clone());
        async move { client.get(url).header("Cookie", cookies).send().await.unwrap() }
    };

    // Ten copies on each instance at once, then one more on each afterwards.
    let copies = (0..20).map(|i| deliver(at(&cluster.instances[i % 2], callback)));
    let mut answers = join_all(copies).await;
    answers.push(deliver(at(&cluster.instances[0], callback)).await);
    answers.push(deliver(at(&cluster.instances[1], callback)).await);

    assert_eq!(cluster.idp.grants("authorization_code").await, 1, "one redemption across both instances");
    assert_eq!(cluster.idp.grant_errors().await, json!({}));
    for answer in &answers {
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "every copy ends where the sign-in ended");
        assert_eq!(location(answer), "/mail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_created_on_one_instance_works_on_the_other() {
    let redis = RedisServer::start().await;
    let cluster = on_redis(&redis, 2).await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    for instance in &cluster.instances {
        let me = browser.get(instance.url("/me")).await;
        assert_eq!(me.status(), StatusCode::OK);
        assert_eq!(me.json::<serde_json::Value>().await.unwrap()["sub"], "alice");
        assert_eq!(browser.get(instance.url("/mail")).await.status(), StatusCode::OK);
    }
    assert_eq!(cluster.idp.grants("refresh_token").await, 0, "the other instance used the token in the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_over_both_instances_make_exactly_one_refresh() {
    let redis = RedisServer::start().await;
    let cluster = on_redis(&redis, 2).await;
    // An access token inside the 5-minute buffer, rotating refresh tokens; the refresh gives a long-lived one.
    cluster
        .idp
        .settings(IdpSettings::new().access_token_ttl(Duration::from_secs(120)).rotate_refresh_token(true))
        .await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    cluster
        .idp
        .settings(IdpSettings::new().access_token_ttl(Duration::from_secs(3600)).rotate_refresh_token(true))
        .await;

    let responses = join_all((0..50).map(|_| browser.get(cluster.url("/mail")))).await;
    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(cluster.idp.grants("refresh_token").await, 1, "one refresh served fifty requests on two instances");
    assert_eq!(cluster.idp.grant_errors().await, json!({}));

    // The rotated refresh token in the store still works: the grant was not revoked by a reused one.
    let home = cluster.instances[0].msal.token_cache();
    let me: serde_json::Value = browser.get(cluster.url("/me")).await.json().await.unwrap();
    let account = msal_runtime::HomeAccountId::new(me["home_account_id"].as_str().unwrap());
    let tokens: serde_json::Value =
        serde_json::from_str(&home.export_msal_json(&account).await.unwrap().unwrap()).unwrap();
    let refresh_token = cache_entries(&tokens, "RefreshToken")[0]["secret"].as_str().unwrap().to_owned();
    let (works, answer) = cluster.idp.refresh_token_works(&refresh_token).await;
    assert!(works, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_out_on_one_instance_ends_the_session_on_both() {
    let redis = RedisServer::start().await;
    let cluster = on_redis(&redis, 2).await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    let (a, b) = (&cluster.instances[0], &cluster.instances[1]);
    // Both instances hold the session in memory now.
    assert_eq!(browser.get(a.url("/me")).await.status(), StatusCode::OK);
    assert_eq!(browser.get(b.url("/me")).await.status(), StatusCode::OK);
    let cookies = browser.cookie_header(&cluster.origin).unwrap();

    let origin = cluster.origin.as_str().trim_end_matches('/').to_owned();
    let signed_out = browser.post_form(a.url("/auth/signout"), &[], &[("Origin", origin.as_str())]).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);

    // The old cookie (kept by an attacker, say) no longer opens a session on the other instance.
    let client = reqwest::Client::new();
    let ended = eventually(Duration::from_secs(2), || {
        let request = client.get(b.url("/me")).header("Cookie", cookies.clone());
        async move { request.send().await.unwrap().status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(ended, "the session ended on the other instance too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarting_an_instance_on_the_embedded_store_keeps_users_signed_in() {
    let (mut cluster, path) = on_embedded().await;
    let (browser, token_requests) = alice_reading_mail(&cluster).await;
    restart_and_read_mail(&mut cluster, &browser, token_requests).await;
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Every secret and identifier of the signed-in user, as the cache holds them.
async fn secrets_of(cluster: &Cluster, browser: &Browser) -> Vec<String> {
    let me: serde_json::Value = browser.get(cluster.url("/me")).await.json().await.unwrap();
    let account = msal_runtime::HomeAccountId::new(me["home_account_id"].as_str().unwrap());
    let json = cluster.instances[0].msal.token_cache().export_msal_json(&account).await.unwrap().unwrap();
    let tokens: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut secrets = vec![me["sub"].as_str().unwrap().to_owned(), account.as_str().to_owned()];
    for kind in ["AccessToken", "RefreshToken", "IdToken"] {
        for entry in cache_entries(&tokens, kind) {
            let secret = entry["secret"].as_str().unwrap();
            // A recognisable stretch of each token (JWTs share their header's prefix; take the end).
            secrets.push(secret[secret.len().saturating_sub(24)..].to_owned());
        }
    }
    secrets
}

fn assert_none_in(haystack: &[u8], secrets: &[String], store: &str) {
    assert!(!haystack.is_empty(), "{store} holds something");
    for secret in secrets {
        let found = haystack.windows(secret.len()).any(|window| window == secret.as_bytes());
        assert!(!found, "{store} holds {secret:?} in plaintext");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_token_or_user_identifier_is_stored_in_plaintext() {
    // Redis: everything it holds, as its snapshot file (uncompressed).
    let redis = RedisServer::start().await;
    let cluster = on_redis(&redis, 1).await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    let secrets = secrets_of(&cluster, &browser).await;
    assert_none_in(&redis.snapshot().await, &secrets, "Redis");

    // The embedded store: the database file and its write-ahead log.
    let (cluster, path) = on_embedded().await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    let secrets = secrets_of(&cluster, &browser).await;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
    assert_none_in(&bytes, &secrets, "the embedded store");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_stopped_cached_tokens_are_served_misses_fail_clearly_and_service_resumes() {
    let mut redis = RedisServer::start().await;
    let mut cluster = on_redis(&redis, 1).await;
    let browser = Browser::new();
    cluster.sign_in(&browser, "/", "alice").await;
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    // A second instance that has not seen alice's session (a new one, or one whose L1 let it go).
    let unseen = cluster.start_instance().await;

    redis.stop().await;
    // The session and the token are in the first instance's memory: served without the store.
    let started = Instant::now();
    assert_eq!(browser.get(cluster.instances[0].url("/mail")).await.status(), StatusCode::OK, "an L1 hit");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The other instance cannot tell whether her session is live: a 503 to retry, for pages and scripts
    // alike, rather than a sign-in that could not finish.
    let fetch = [("sec-fetch-mode", "cors")];
    for (path, headers) in [("/", &[][..]), ("/me", &[]), ("/mail", &[]), ("/mail/messages", &fetch)] {
        let response = browser.get_with(cluster.instances[unseen].url(path), headers).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(response.headers()["retry-after"], "5", "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("unavailable") && !body.contains("Connection refused"), "{path}: {body}");
    }
    // A sign-in needs the store (its one redemption): a clear 503, within the store timeout, no panic.
    let other = Browser::new();
    let start = other.get(cluster.url("/auth/signin?return_url=%2F")).await;
    let response = other.authorize(location(&start), "bob", &cluster.origin).await;
    let started = Instant::now();
    let callback = other.deliver(&response).await;
    assert_eq!(callback.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(callback.text().await.unwrap().contains("unavailable"));

    redis.restart().await;
    // The browser retries its callback (its sign-in cookie was kept): the store is back, it signs in.
    let resumed = eventually(Duration::from_secs(10), || {
        let (other, response) = (&other, &response);
        async move { other.deliver(response).await.status() == StatusCode::SEE_OTHER }
    })
    .await;
    assert!(resumed, "service resumes by itself");
    assert_eq!(other.get(cluster.url("/me")).await.status(), StatusCode::OK);
    assert_eq!(cluster.idp.grants("authorization_code").await, 2);
    // Notices were lost while Redis was down: once it is back, the instance drops what it held, and this
    // Redis restarted empty, so the first user signs in again rather than being served a session no store has.
    let dropped = eventually(Duration::from_secs(5), || {
        let browser = &browser;
        let url = cluster.url("/me");
        async move { browser.get(url).await.status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(dropped, "copies that may have missed changes are dropped once the store answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotating_the_store_key_keeps_users_signed_in_and_dropping_the_oldest_signs_them_in_again() {
    let path = embedded_path();
    let store = path.to_str().unwrap().to_owned();
    let (old, new) = ([1u8; 32], [2u8; 32]);
    let keys = std::sync::Arc::new(std::sync::Mutex::new(vec![old]));
    let ring = std::sync::Arc::clone(&keys);
    let mut cluster = Cluster::start(1, move |config| {
        let ring = ring.lock().unwrap().clone();
        config.token_cache(store.clone()).store_keys(ring).cookie_key(COOKIE_KEY).initial_scopes(["Mail.Read"])
    })
    .await;
    let (browser, token_requests) = alice_reading_mail(&cluster).await;

    // A new key in front: what the old one sealed still opens, and the names are the same.
    *keys.lock().unwrap() = vec![new, old];
    restart_and_read_mail(&mut cluster, &browser, token_requests).await;

    // The oldest key names the entries: dropping it renames them, and the user signs in again, cleanly.
    *keys.lock().unwrap() = vec![new];
    cluster.stop_instance(0).await;
    cluster.start_instance().await;
    assert_eq!(browser.get(cluster.url("/me")).await.status(), StatusCode::UNAUTHORIZED);
    cluster.sign_in(&browser, "/", "alice").await;
    assert_eq!(browser.get(cluster.url("/mail")).await.status(), StatusCode::OK);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
