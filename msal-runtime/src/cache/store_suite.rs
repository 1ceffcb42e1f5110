//! The contract of a [`TokenStore`](crate::cache::store::TokenStore), as one suite that every store runs with one
//! invocation (after tower-sessions' `route_tests!`):
//!
//! ```ignore
//! token_store_suite!(
//!     memory_store,
//!     |max_users, lifetime| async move { TokenCache::in_memory(max_users, lifetime, CLIENT_ID) },
//!     eviction = least_recently_used,
//!     fast_path = summaries
//! );
//! ```
//!
//! The invocation names the suite's module, says how to build a fresh cache over the store under test, and
//! states the two rules that depend on the store. The builder is an async closure (persistent and remote
//! stores open files and connections) taking the bound `max_users` and the `lifetime` of partitions whose
//! refresh token's expiry is unknown, for tokens of [`CLIENT_ID`]; it is called once per test, and each call
//! must start from an empty store (on a shared server: under a fresh key prefix). The two rules:
//!
//! - `eviction`: `least_recently_used` (bounded to `max_users`, and with few users the least recently used
//!   goes first, exactly: the memory store), `bounded` (the bound holds, in an order of the store's own), or
//!   `until_expiry` (a shared store keeps every partition until it expires; `max_users` bounds its L1);
//! - `fast_path`: `summaries` (`find_hot` answers a small partition without a load, and knows when a user
//!   has none), `l1` (it answers what its L1 holds, and leaves users it does not hold to a load), or
//!   `load_only` (the trait's default: every lookup, of present and absent users alike, is left to a load).
//!
//! Both are required, so no store skips a rule by omission, and each setting brings the tests of what it
//! promises, so nothing is ignored. The bodies are the `pub(crate)` functions below, so each rule is written
//! and type-checked once; the macro only writes one `#[tokio::test]` per rule.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::partition::tests::{account, issue, response};
use crate::cache::partition::{EXPIRY_BUFFER_SECS, GrantType, Issued};
use crate::cache::schema::CachePartition;
use crate::cache::store::Saved;
use crate::cache::token_cache::ImportError;
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;
use crate::scope::set::ScopeSet;

/// The client whose tokens the suite writes and looks up; stores under test are built for it.
pub(crate) const CLIENT_ID: &str = "client";

/// How partitions are kept when the suite does not test expiry: long enough to outlive any test.
const HOUR: Duration = Duration::from_secs(3600);

/// Expands to a module `$suite` with one `#[tokio::test]` per rule of the contract; see the module's docs.
macro_rules! token_store_suite {
    ($suite:ident, $new_cache:expr, eviction = $eviction:ident, fast_path = $fast_path:ident $(,)?) => {
        mod $suite {
            // The closure is written at the call site: its names resolve as they do there.
            #[allow(unused_imports)]
            use super::*;

            async fn new_cache(
                max_users: ::std::num::NonZeroUsize,
                lifetime: ::std::time::Duration,
            ) -> $crate::cache::token_cache::TokenCache {
                ($new_cache)(max_users, lifetime).await
            }

            $crate::cache::store_suite::token_store_suite!(@tests
                a_stale_version_conflicts_and_leaves_the_newer_write,
                creating_only_if_absent_conflicts_when_present,
                versions_are_never_reused_after_remove_and_re_create,
                expired_partitions_are_gone,
                an_expired_partition_is_absent_to_every_reader,
                exported_json_imports_back_into_another_cache,
                removal_and_export,
                remove_contains_and_count_agree,
                update_existing_never_recreates_a_removed_partition,
                update_existing_drops_changes_for_a_user_removed_meanwhile,
                the_fast_path_answers_like_the_full_rules_on_the_loaded_partition,
            );
            $crate::cache::store_suite::token_store_suite!(@test concurrent_writers_of_one_user_lose_no_update,
                multi_thread);
            $crate::cache::store_suite::token_store_suite!(@eviction $eviction);
            $crate::cache::store_suite::token_store_suite!(@fast_path $fast_path);
        }
    };

    (@eviction least_recently_used) => {
        $crate::cache::store_suite::token_store_suite!(@tests
            evicts_the_least_recently_used_user_beyond_the_bound,
            a_large_bound_is_respected_across_shards,
        );
    };
    (@eviction bounded) => {
        $crate::cache::store_suite::token_store_suite!(@test a_large_bound_is_respected_across_shards);
    };
    (@eviction until_expiry) => {
        $crate::cache::store_suite::token_store_suite!(@test the_shared_store_keeps_every_partition_until_it_expires);
    };

    (@fast_path summaries) => {
        $crate::cache::store_suite::token_store_suite!(@test small_partitions_are_answered_without_a_load);
    };
    (@fast_path l1) => {
        $crate::cache::store_suite::token_store_suite!(@test the_l1_answers_what_it_holds_and_leaves_the_rest_to_a_load);
    };
    (@fast_path load_only) => {
        $crate::cache::store_suite::token_store_suite!(@test every_lookup_is_left_to_a_load);
    };

    (@tests $($rule:ident),+ $(,)?) => {
        $($crate::cache::store_suite::token_store_suite!(@test $rule);)+
    };
    (@test $rule:ident) => {
        #[::tokio::test]
        async fn $rule() {
            $crate::cache::store_suite::$rule(new_cache).await;
        }
    };
    (@test $rule:ident, multi_thread) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $rule() {
            $crate::cache::store_suite::$rule(new_cache).await;
        }
    };
}

pub(crate) use token_store_suite;

/// Builds a fresh cache over the store under test (what the suite's line gives, wrapped by the macro).
pub(crate) trait NewCache {
    fn cache(&self, max_users: usize, lifetime: Duration) -> impl Future<Output = TokenCache>;
}

impl<F, Fut> NewCache for F
where
    F: Fn(NonZeroUsize, Duration) -> Fut,
    Fut: Future<Output = TokenCache>,
{
    fn cache(&self, max_users: usize, lifetime: Duration) -> impl Future<Output = TokenCache> {
        self(NonZeroUsize::new(max_users).expect("the suite bounds caches to at least one user"), lifetime)
    }
}

fn key(name: &str) -> HomeAccountId {
    HomeAccountId::new(name)
}

async fn write(cache: &TokenCache, user: &str, token: &str, scope: &str) {
    write_expiring(cache, user, token, scope, 3600).await;
}

async fn write_expiring(cache: &TokenCache, user: &str, token: &str, scope: &str, expires_in: u64) {
    write_issued(cache, user, CLIENT_ID, token, scope, expires_in, unix_now()).await;
}

/// Records a token response for `user` through the cache, as issued to `client_id` at `issued_at`.
async fn write_issued(
    cache: &TokenCache,
    user: &str,
    client_id: &str,
    token: &str,
    scope: &str,
    expires_in: u64,
    issued_at: u64,
) {
    let account = account(user);
    let requested = ScopeSet::parse(scope).unwrap();
    let issued = Issued {
        account: &account,
        client_id,
        requested: &requested,
        grant_type: GrantType::RefreshToken,
        now: issued_at,
    };
    let response = response(token, Some(scope), expires_in);
    cache.update(&key(user), |partition| partition.record(&issued, &response)).await.unwrap();
}

/// A partition holding one access token, `secret`, for the compare-and-swap tests.
pub(crate) fn partition_with(secret: &str) -> Arc<CachePartition> {
    let mut partition = CachePartition::default();
    issue(&mut partition, &response(secret, Some("Mail.Read"), 3600), "Mail.Read", GrantType::RefreshToken, unix_now());
    Arc::new(partition)
}

pub(crate) fn secret_of(partition: &CachePartition) -> &str {
    partition.access_tokens.values().next().expect("one access token").secret.expose()
}

/// Saves `secret`'s partition for an hour, expecting the write to land; its version.
async fn save(cache: &TokenCache, user: &str, expected: Option<u64>, secret: &str) -> u64 {
    match cache.store().save(&key(user), expected, partition_with(secret), unix_now() + 3600).await.unwrap() {
        Saved::Stored { version } => version,
        Saved::Conflict => panic!("saving {secret} over {expected:?} conflicted"),
    }
}

pub(crate) async fn a_stale_version_conflicts_and_leaves_the_newer_write(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    let first = save(&cache, "alice", None, "first").await;
    let second = save(&cache, "alice", Some(first), "second").await;
    assert_ne!(first, second);
    let stale = cache.store().save(&key("alice"), Some(first), partition_with("stale"), unix_now() + 3600).await;
    assert_eq!(stale.unwrap(), Saved::Conflict);
    let stored = cache.store().load(&key("alice")).await.unwrap().unwrap();
    assert_eq!((stored.version, secret_of(&stored.partition)), (second, "second"));
}

pub(crate) async fn creating_only_if_absent_conflicts_when_present(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    let first = save(&cache, "alice", None, "first").await;
    let again = cache.store().save(&key("alice"), None, partition_with("again"), unix_now() + 3600).await;
    assert_eq!(again.unwrap(), Saved::Conflict);
    let stored = cache.store().load(&key("alice")).await.unwrap().unwrap();
    assert_eq!((stored.version, secret_of(&stored.partition)), (first, "first"));
    // A version never written is as stale as an old one.
    let invented = cache.store().save(&key("bob"), Some(first), partition_with("bob"), unix_now() + 3600).await;
    assert_eq!(invented.unwrap(), Saved::Conflict);
    assert!(cache.store().load(&key("bob")).await.unwrap().is_none());
}

pub(crate) async fn versions_are_never_reused_after_remove_and_re_create(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    let before = save(&cache, "alice", None, "before").await;
    cache.store().remove(&key("alice")).await.unwrap();
    let after = save(&cache, "alice", None, "after").await;
    assert_ne!(before, after, "a writer that loaded before the removal must not overwrite the new partition");
    let stale = cache.store().save(&key("alice"), Some(before), partition_with("stale"), unix_now() + 3600).await;
    assert_eq!(stale.unwrap(), Saved::Conflict);
    assert_eq!(secret_of(&cache.store().load(&key("alice")).await.unwrap().unwrap().partition), "after");
}

pub(crate) async fn concurrent_writers_of_one_user_lose_no_update(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    let writers: Vec<_> = (0..64)
        .map(|i| {
            let cache = cache.clone();
            // Distinct resources, so no token replaces another: all 64 must survive.
            tokio::spawn(async move { write(&cache, "alice", &format!("t{i}"), &format!("api{i}.Read")).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let stored = cache.load(&key("alice")).await.unwrap().unwrap();
    assert_eq!(stored.partition.access_tokens.len(), 64);
}

pub(crate) async fn expired_partitions_are_gone(new: impl NewCache) {
    let cache = new.cache(10, Duration::ZERO).await;
    write_expiring(&cache, "a", "t", "Mail.Read", 0).await;
    assert!(!cache.contains_account(&key("a")).await.unwrap());
    assert_eq!(cache.export_msal_json(&key("a")).await.unwrap(), None);
}

pub(crate) async fn an_expired_partition_is_absent_to_every_reader(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    // One user per reader, so that no reader meets a partition another reader has already dropped.
    let readers = ["count", "find_hot", "export", "load"];
    let mut versions = Vec::new();
    for user in readers {
        // Kept until now: expired from this very second on.
        match cache.store().save(&key(user), None, partition_with("old"), unix_now()).await.unwrap() {
            Saved::Stored { version } => versions.push(version),
            Saved::Conflict => panic!("creating an absent partition conflicted"),
        }
    }
    let request = ScopeIds::of_request(&ScopeSet::parse("Mail.Read").unwrap());
    let hot = cache.find_hot(&key("find_hot"), request.as_ref(), unix_now(), EXPIRY_BUFFER_SECS);
    assert!(matches!(hot, None | Some(HotLookup::Unknown)), "an expired partition answered {hot:?}");
    assert_eq!(cache.export_msal_json(&key("export")).await.unwrap(), None);
    assert!(cache.load(&key("load")).await.unwrap().is_none());
    // Last, since counting may drop expired partitions on its way.
    assert_eq!(cache.account_count().await.unwrap(), 0);
    // Absent to writers too: its version is stale, and creating over it succeeds.
    for (user, version) in readers.into_iter().zip(versions) {
        let stale = cache.store().save(&key(user), Some(version), partition_with("stale"), unix_now() + 3600).await;
        assert_eq!(stale.unwrap(), Saved::Conflict, "{user}");
    }
    save(&cache, "load", None, "new").await;
    assert_eq!(secret_of(&cache.load(&key("load")).await.unwrap().unwrap().partition), "new");
    assert_eq!(cache.account_count().await.unwrap(), 1);
}

pub(crate) async fn evicts_the_least_recently_used_user_beyond_the_bound(new: impl NewCache) {
    let cache = new.cache(3, HOUR).await;
    for user in ["a", "b", "c"] {
        write(&cache, user, "t", "Mail.Read").await;
    }
    // Touch "a" so that "b" is now the least recently used.
    assert!(cache.contains_account(&key("a")).await.unwrap());
    write(&cache, "d", "t", "Mail.Read").await;
    assert_eq!(cache.account_count().await.unwrap(), 3);
    assert!(!cache.contains_account(&key("b")).await.unwrap());
    for user in ["a", "c", "d"] {
        assert!(cache.contains_account(&key(user)).await.unwrap(), "{user}");
    }
}

pub(crate) async fn a_large_bound_is_respected_across_shards(new: impl NewCache) {
    let cache = new.cache(2048, HOUR).await;
    for i in 0..3000 {
        write(&cache, &format!("user-{i}"), "t", "Mail.Read").await;
    }
    let count = cache.account_count().await.unwrap();
    assert!(count <= 2048 && count > 1500, "{count}");
    assert!(cache.contains_account(&key("user-2999")).await.unwrap());
}

pub(crate) async fn exported_json_imports_back_into_another_cache(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    write(&cache, "alice", "secret-at", "Mail.Read").await;
    write(&cache, "bob", "bobs-at", "Mail.Read").await;
    let alice = cache.export_msal_json(&key("alice")).await.unwrap().unwrap();
    let other = new.cache(10, HOUR).await;
    // The entries name the user as MSAL does (`sub` of a generic issuer); the partition key adds the issuer.
    let imported = other.import_msal_json(&alice).await.unwrap();
    assert_eq!(imported.accounts, [other.account_key("alice")]);
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    assert_eq!(other.export_msal_json(&other.account_key("alice")).await.unwrap().unwrap(), alice);
    let broken = other.import_msal_json("{\"AccessToken\": 1}").await.unwrap();
    assert_eq!(broken.skipped.len(), 1, "a broken section is skipped, not the document");
    assert!(matches!(other.import_msal_json("[1]").await, Err(ImportError::Json(_))));
}

pub(crate) async fn removal_and_export(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    write(&cache, "alice", "secret-at", "Mail.Read").await;
    let json = cache.export_msal_json(&key("alice")).await.unwrap().unwrap();
    assert!(json.contains(r#""AccessToken""#) && json.contains("secret-at"));
    cache.remove_account(&key("alice")).await.unwrap();
    assert!(!cache.contains_account(&key("alice")).await.unwrap());
    cache.remove_account(&key("alice")).await.unwrap();
}

pub(crate) async fn remove_contains_and_count_agree(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    assert_eq!(cache.account_count().await.unwrap(), 0);
    for user in ["alice", "bob", "carol"] {
        write(&cache, user, "t", "Mail.Read").await;
    }
    write(&cache, "alice", "t2", "Mail.Read").await;
    assert_eq!(cache.account_count().await.unwrap(), 3, "a rewrite is the same partition");
    cache.remove_account(&key("bob")).await.unwrap();
    cache.remove_account(&key("nobody")).await.unwrap();
    assert_eq!(cache.account_count().await.unwrap(), 2);
    assert!(!cache.contains_account(&key("bob")).await.unwrap());
    assert!(cache.load(&key("bob")).await.unwrap().is_none());
    for user in ["alice", "carol"] {
        assert!(cache.contains_account(&key(user)).await.unwrap(), "removing bob removed {user}");
    }
}

pub(crate) async fn update_existing_never_recreates_a_removed_partition(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    assert_eq!(cache.update_existing(&key("alice"), |_| ()).await.unwrap(), None);
    assert!(!cache.contains_account(&key("alice")).await.unwrap());
    write(&cache, "alice", "t", "Mail.Read").await;
    assert_eq!(cache.update_existing(&key("alice"), |p| p.access_tokens.len()).await.unwrap(), Some(1));
}

pub(crate) async fn update_existing_drops_changes_for_a_user_removed_meanwhile(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    write(&cache, "alice", "t", "Mail.Read").await;
    cache.remove_account(&key("alice")).await.unwrap();
    let refreshed = cache.update_existing(&key("alice"), |partition| partition.access_tokens.clear()).await;
    assert_eq!(refreshed.unwrap(), None);
    assert!(!cache.contains_account(&key("alice")).await.unwrap());
    assert_eq!(cache.account_count().await.unwrap(), 0);
}

/// What `find_hot` answered, once checked against the full rules on the partition as loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Absent,
    Hit,
    Miss,
    Unknown,
}

/// Asks the fast path and the slow path (load, then MSAL's rules) the same question and fails unless the
/// fast path's answer is the slow path's, or "cannot tell".
async fn fast_path_agrees(cache: &TokenCache, user: &str, request: &str, min_remaining: u64) -> Answer {
    let scopes = ScopeSet::parse(request).unwrap().without_reserved();
    let now = unix_now();
    let hot = cache.find_hot(&key(user), ScopeIds::of_request(&scopes).as_ref(), now, min_remaining);
    let loaded = cache.load(&key(user)).await.unwrap();
    let full =
        loaded.as_ref().and_then(|stored| stored.partition.find_access_token(CLIENT_ID, &scopes, now, min_remaining));
    let case = format!("{user} asking for {request:?} with {min_remaining} s to spare");
    match hot {
        None => {
            assert!(loaded.is_none(), "the fast path said {case} has no partition, the store holds one");
            Answer::Absent
        }
        Some(HotLookup::Hit(token)) => {
            let entry = full.unwrap_or_else(|| panic!("the fast path served {case}, the full rules serve nothing"));
            assert_eq!(token.secret.expose(), entry.secret.expose(), "{case}");
            assert_eq!(token.expires_on, entry.expires_on, "{case}");
            let due = entry.refresh_on.is_some_and(|refresh_on| now >= refresh_on);
            assert_eq!(token.due_for_refresh(now), due, "{case}: refresh_on differs");
            Answer::Hit
        }
        Some(HotLookup::Miss) => {
            assert!(loaded.is_some(), "the fast path found a partition for {case}, the store holds none");
            assert!(
                full.is_none(),
                "the fast path missed {case}, the full rules serve {:?}",
                full.map(|at| at.secret.expose())
            );
            Answer::Miss
        }
        Some(HotLookup::Unknown) => Answer::Unknown,
    }
}

/// Requests the fast path is asked after each write (reserved scopes included, as callers may pass them).
const REQUESTS: [&str; 9] = [
    "Mail.Read",
    "mail.read openid",
    "api.Orders.Read",
    "API.ORDERS.WRITE api.orders.read",
    "Mail.Send",
    "Mail.Read api.Orders.Read",
    "Files.Read",
    "Suite.Never.Issued",
    "",
];

/// From no time to spare to more than any token has: the full range of expiry answers.
const MARGINS: [u64; 6] = [0, EXPIRY_BUFFER_SECS, 3000, 3700, 10_000, 100_000];

async fn fast_path_agrees_everywhere(cache: &TokenCache, user: &str) -> Vec<Answer> {
    let mut answers = Vec::new();
    for request in REQUESTS {
        for min_remaining in MARGINS {
            answers.push(fast_path_agrees(cache, user, request, min_remaining).await);
        }
    }
    answers
}

pub(crate) async fn the_fast_path_answers_like_the_full_rules_on_the_loaded_partition(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    let now = unix_now();
    assert!(fast_path_agrees_everywhere(&cache, "alice").await.iter().all(|answer| *answer != Answer::Hit));
    write(&cache, "alice", "mail", "openid profile Mail.Read").await;
    fast_path_agrees_everywhere(&cache, "alice").await;
    // Issued three hours ago for four: valid for another hour, but past `refresh_on` (half its life).
    write_issued(&cache, "alice", CLIENT_ID, "orders", "api.Orders.Read api.Orders.Write", 4 * 3600, now - 3 * 3600)
        .await;
    fast_path_agrees_everywhere(&cache, "alice").await;
    // Another client's token is never this client's hit.
    write_issued(&cache, "alice", "other-client", "files", "Files.Read", 3600, now).await;
    fast_path_agrees_everywhere(&cache, "alice").await;
    // A token replacing an overlapping one: the fast path must not serve the replaced one.
    write(&cache, "alice", "mail-send", "Mail.Read Mail.Send").await;
    fast_path_agrees_everywhere(&cache, "alice").await;
    // More scopes than a summary holds: the store may say it cannot tell, never answer wrong.
    let wide = (0..16).map(|i| format!("wide{i}.Read")).collect::<Vec<_>>().join(" ");
    write(&cache, "bob", "wide", &wide).await;
    fast_path_agrees_everywhere(&cache, "bob").await;
    fast_path_agrees(&cache, "bob", "wide3.Read wide12.Read", EXPIRY_BUFFER_SECS).await;
    cache.remove_account(&key("alice")).await.unwrap();
    assert!(fast_path_agrees_everywhere(&cache, "alice").await.iter().all(|answer| *answer != Answer::Hit));
}

/// `None` would tell silent acquisition that the user has no tokens and must sign in again: a store without
/// summaries must leave every lookup, of present and absent users alike, to a load.
pub(crate) async fn every_lookup_is_left_to_a_load(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    write(&cache, "alice", "mail", "openid Mail.Read").await;
    for user in ["alice", "nobody"] {
        let answers = fast_path_agrees_everywhere(&cache, user).await;
        assert!(answers.iter().all(|answer| *answer == Answer::Unknown), "{user}: {answers:?}");
    }
}

pub(crate) async fn small_partitions_are_answered_without_a_load(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Read", EXPIRY_BUFFER_SECS).await, Answer::Absent);
    write(&cache, "alice", "mail", "openid Mail.Read").await;
    write(&cache, "alice", "orders", "api.Orders.Read").await;
    let answers = fast_path_agrees_everywhere(&cache, "alice").await;
    assert!(!answers.contains(&Answer::Unknown), "{answers:?}");
    assert_eq!(fast_path_agrees(&cache, "alice", "mail.read", EXPIRY_BUFFER_SECS).await, Answer::Hit);
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Send", EXPIRY_BUFFER_SECS).await, Answer::Miss);
    assert_eq!(fast_path_agrees(&cache, "alice", "Suite.Never.Issued", EXPIRY_BUFFER_SECS).await, Answer::Miss);
    cache.remove_account(&key("alice")).await.unwrap();
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Read", EXPIRY_BUFFER_SECS).await, Answer::Absent);
}

pub(crate) async fn the_shared_store_keeps_every_partition_until_it_expires(new: impl NewCache) {
    let cache = new.cache(16, HOUR).await;
    for i in 0..40 {
        write(&cache, &format!("user-{i}"), "t", "Mail.Read").await;
    }
    assert_eq!(cache.account_count().await.unwrap(), 40, "beyond the L1's bound, kept in the shared store");
    for i in 0..40 {
        assert!(cache.contains_account(&key(&format!("user-{i}"))).await.unwrap(), "user-{i}");
    }
}

/// Users the L1 holds (written or loaded here) are answered without a load; others, present in the shared
/// store or not, are left to one, since the shared store may hold what the L1 does not.
pub(crate) async fn the_l1_answers_what_it_holds_and_leaves_the_rest_to_a_load(new: impl NewCache) {
    let cache = new.cache(10, HOUR).await;
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Read", EXPIRY_BUFFER_SECS).await, Answer::Unknown);
    write(&cache, "alice", "mail", "openid Mail.Read").await;
    assert_eq!(fast_path_agrees(&cache, "alice", "mail.read", EXPIRY_BUFFER_SECS).await, Answer::Hit);
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Send", EXPIRY_BUFFER_SECS).await, Answer::Miss);
    let answers = fast_path_agrees_everywhere(&cache, "nobody").await;
    assert!(answers.iter().all(|answer| *answer == Answer::Unknown), "{answers:?}");
    cache.remove_account(&key("alice")).await.unwrap();
    assert_eq!(fast_path_agrees(&cache, "alice", "Mail.Read", EXPIRY_BUFFER_SECS).await, Answer::Unknown);
}
