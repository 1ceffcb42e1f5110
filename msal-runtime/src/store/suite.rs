//! The contract of a [`SharedStore`], as one suite every backend runs with one invocation:
//!
//! ```ignore
//! shared_store_suite!(sqlite_store, || async { let (a, b) = two_handles_on_a_fresh_file().await; (a, b) });
//! ```
//!
//! The closure builds two handles on one fresh, empty store (as two instances of an app would open it: two
//! connections, two pools), each an `Arc<dyn SharedStore>`; it is called once per test. The bodies are the
//! `pub(crate)` functions below, written and type-checked once.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::unix_now;
use crate::store::shared::{Expect, Kind, Notice, SharedStore, StoreKey, Written};

pub(crate) type Handles = (Arc<dyn SharedStore>, Arc<dyn SharedStore>);

/// Expands to a module `$suite` with one `#[tokio::test]` per rule of the contract.
macro_rules! shared_store_suite {
    ($suite:ident, $new_store:expr $(,)?) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;

            async fn handles() -> $crate::store::suite::Handles {
                ($new_store)().await
            }

            $crate::store::suite::shared_store_suite!(@tests
                absent_entries_read_as_none,
                creating_only_if_absent_happens_once,
                a_stale_version_conflicts_and_leaves_the_newer_write,
                unconditional_writes_overwrite,
                versions_are_never_reused_after_delete_and_re_create,
                expired_entries_are_absent_to_every_operation,
                deletes_are_conditional_too,
                counts_are_per_kind_and_skip_expired_entries,
                values_are_bytes_of_any_kind_and_size,
                the_other_handle_sees_every_write,
                notices_reach_the_other_handle_in_order,
            );
            $crate::store::suite::shared_store_suite!(@test concurrent_writers_lose_no_update, "multi_thread");
        }
    };
    (@tests $($rule:ident),+ $(,)?) => {
        $($crate::store::suite::shared_store_suite!(@test $rule, "current_thread");)+
    };
    // The flavor is a `tt`, not a macro call: `#[tokio::test]` reads its arguments unexpanded and wants a
    // literal there.
    (@test $rule:ident, $flavor:tt) => {
        #[tokio::test(flavor = $flavor)]
        async fn $rule() {
            $crate::store::suite::$rule(handles().await).await;
        }
    };
}
pub(crate) use shared_store_suite;

/// A key of `kind` whose name is `name` repeated (tests of any backend).
pub(crate) fn key(kind: Kind, name: u8) -> StoreKey {
    StoreKey { kind, name: [name; 32] }
}

/// An hour from now: an expiry no test outlives.
pub(crate) fn later() -> u64 {
    unix_now() + 3600
}

/// The version a write that had to succeed produced.
pub(crate) fn version(written: Written) -> u64 {
    match written {
        Written::Done { version } => version,
        Written::Conflict => panic!("unexpected conflict"),
    }
}

pub(crate) async fn absent_entries_read_as_none((store, _): Handles) {
    assert_eq!(store.get(&key(Kind::Tokens, 1)).await.unwrap(), None);
}

pub(crate) async fn creating_only_if_absent_happens_once((store, _): Handles) {
    let k = key(Kind::Redemption, 1);
    let v1 = version(store.put(&k, Expect::Absent, b"claimed", later()).await.unwrap());
    assert_eq!(store.put(&k, Expect::Absent, b"again", later()).await.unwrap(), Written::Conflict);
    let entry = store.get(&k).await.unwrap().unwrap();
    assert_eq!((entry.version, entry.value.as_slice()), (v1, &b"claimed"[..]));
}

pub(crate) async fn a_stale_version_conflicts_and_leaves_the_newer_write((store, _): Handles) {
    let k = key(Kind::Tokens, 2);
    let v1 = version(store.put(&k, Expect::Absent, b"one", later()).await.unwrap());
    let v2 = version(store.put(&k, Expect::Version(v1), b"two", later()).await.unwrap());
    assert_ne!(v1, v2);
    assert_eq!(store.put(&k, Expect::Version(v1), b"stale", later()).await.unwrap(), Written::Conflict);
    let entry = store.get(&k).await.unwrap().unwrap();
    assert_eq!((entry.version, entry.value.as_slice()), (v2, &b"two"[..]));
    assert_eq!(store.put(&key(Kind::Tokens, 3), Expect::Version(v2), b"x", later()).await.unwrap(), Written::Conflict);
}

pub(crate) async fn unconditional_writes_overwrite((store, _): Handles) {
    let k = key(Kind::Session, 1);
    let v1 = version(store.put(&k, Expect::Any, b"one", later()).await.unwrap());
    let v2 = version(store.put(&k, Expect::Any, b"two", later()).await.unwrap());
    assert_ne!(v1, v2);
    assert_eq!(store.get(&k).await.unwrap().unwrap().value, b"two");
}

pub(crate) async fn versions_are_never_reused_after_delete_and_re_create((store, _): Handles) {
    let k = key(Kind::Tokens, 4);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let v = version(store.put(&k, Expect::Absent, b"v", later()).await.unwrap());
        assert!(seen.insert(v), "version {v} handed out twice");
        assert_eq!(store.delete(&k, Expect::Version(v)).await.unwrap(), Written::Done { version: 0 });
    }
}

pub(crate) async fn expired_entries_are_absent_to_every_operation((store, _): Handles) {
    let k = key(Kind::Session, 2);
    let v = version(store.put(&k, Expect::Absent, b"old", unix_now()).await.unwrap());
    assert_eq!(store.get(&k).await.unwrap(), None, "expires_at is now: already absent");
    assert_eq!(store.put(&k, Expect::Version(v), b"x", later()).await.unwrap(), Written::Conflict);
    assert_eq!(store.delete(&k, Expect::Version(v)).await.unwrap(), Written::Conflict);
    assert_eq!(store.count(Kind::Session).await.unwrap(), 0);
    version(store.put(&k, Expect::Absent, b"new", unix_now() + 2).await.unwrap());
    assert_eq!(store.get(&k).await.unwrap().unwrap().value, b"new");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(store.get(&k).await.unwrap(), None, "gone at its second");
}

pub(crate) async fn deletes_are_conditional_too((store, _): Handles) {
    let k = key(Kind::RefreshLease, 1);
    assert_eq!(store.delete(&k, Expect::Any).await.unwrap(), Written::Done { version: 0 }, "absent is fine");
    assert_eq!(store.delete(&k, Expect::Absent).await.unwrap(), Written::Done { version: 0 });
    let v = version(store.put(&k, Expect::Absent, b"holder-a", later()).await.unwrap());
    assert_eq!(store.delete(&k, Expect::Version(v.wrapping_add(1))).await.unwrap(), Written::Conflict);
    assert_eq!(store.delete(&k, Expect::Absent).await.unwrap(), Written::Conflict);
    assert!(store.get(&k).await.unwrap().is_some());
    assert_eq!(store.delete(&k, Expect::Version(v)).await.unwrap(), Written::Done { version: 0 });
    assert_eq!(store.get(&k).await.unwrap(), None);
    version(store.put(&k, Expect::Absent, b"x", later()).await.unwrap());
    assert_eq!(store.delete(&k, Expect::Any).await.unwrap(), Written::Done { version: 0 });
    assert_eq!(store.get(&k).await.unwrap(), None);
}

pub(crate) async fn counts_are_per_kind_and_skip_expired_entries((store, _): Handles) {
    for name in 0..5 {
        store.put(&key(Kind::Tokens, name), Expect::Any, b"t", later()).await.unwrap();
    }
    store.put(&key(Kind::Tokens, 9), Expect::Any, b"t", unix_now()).await.unwrap();
    store.put(&key(Kind::Session, 0), Expect::Any, b"s", later()).await.unwrap();
    assert_eq!(store.count(Kind::Tokens).await.unwrap(), 5);
    assert_eq!(store.count(Kind::Session).await.unwrap(), 1);
    assert_eq!(store.count(Kind::Redemption).await.unwrap(), 0);
    // Same name, another kind: another entry.
    assert_eq!(store.get(&key(Kind::Session, 1)).await.unwrap(), None);
}

pub(crate) async fn values_are_bytes_of_any_kind_and_size((store, _): Handles) {
    let big: Vec<u8> = (0..4 * 1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    for (name, value) in [(1u8, Vec::new()), (2, vec![0, 255, 0, 10, 13]), (3, big)] {
        let k = key(Kind::Tokens, name);
        store.put(&k, Expect::Any, &value, later()).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().unwrap().value, value);
    }
}

pub(crate) async fn the_other_handle_sees_every_write((a, b): Handles) {
    let k = key(Kind::Tokens, 7);
    let v = version(a.put(&k, Expect::Absent, b"from a", later()).await.unwrap());
    assert_eq!(b.get(&k).await.unwrap().unwrap().version, v);
    assert_eq!(b.put(&k, Expect::Absent, b"from b", later()).await.unwrap(), Written::Conflict);
    let v2 = version(b.put(&k, Expect::Version(v), b"from b", later()).await.unwrap());
    assert_eq!(a.put(&k, Expect::Version(v), b"stale", later()).await.unwrap(), Written::Conflict);
    assert_eq!(a.get(&k).await.unwrap().unwrap().version, v2);
    b.delete(&k, Expect::Any).await.unwrap();
    assert_eq!(a.get(&k).await.unwrap(), None);
}

pub(crate) async fn notices_reach_the_other_handle_in_order((a, b): Handles) {
    let mut on_b = b.subscribe();
    let mut on_a = a.subscribe();
    // A subscription may take a moment to reach a remote store; notices sent before that are not promised.
    let mut first = None;
    for attempt in 0..100u32 {
        a.publish(format!("ready {attempt}").as_bytes()).await.unwrap();
        if let Ok(Ok(notice)) = tokio::time::timeout(Duration::from_millis(50), on_b.recv()).await {
            first = Some(notice);
            break;
        }
    }
    assert!(matches!(first, Some(Notice::Published(_)) | Some(Notice::Lost)), "{first:?}");
    for n in 0..10u8 {
        a.publish(&[n; 40]).await.unwrap();
    }
    let mut heard = Vec::new();
    while heard.len() < 10 {
        match tokio::time::timeout(Duration::from_secs(5), on_b.recv()).await.expect("notices arrive") {
            Ok(Notice::Published(notice)) if notice.len() == 40 => heard.push(notice[0]),
            Ok(_) => {}
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(heard, (0..10).collect::<Vec<u8>>());
    // The publisher's own subscribers hear it too.
    let own = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Notice::Published(notice)) = on_a.recv().await
                && notice == [9u8; 40]
            {
                break;
            }
        }
    })
    .await;
    assert!(own.is_ok(), "the publishing instance hears its own notices");
}

pub(crate) async fn concurrent_writers_lose_no_update((a, b): Handles) {
    let k = key(Kind::Tokens, 8);
    a.put(&k, Expect::Absent, &0u64.to_be_bytes(), later()).await.unwrap();
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = if writer % 2 == 0 { Arc::clone(&a) } else { Arc::clone(&b) };
            tokio::spawn(async move {
                for _ in 0..10 {
                    loop {
                        let entry = store.get(&k).await.unwrap().unwrap();
                        let n = u64::from_be_bytes(entry.value.as_slice().try_into().unwrap());
                        let next = (n + 1).to_be_bytes();
                        if store.put(&k, Expect::Version(entry.version), &next, later()).await.unwrap()
                            != Written::Conflict
                        {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let entry = a.get(&k).await.unwrap().unwrap();
    assert_eq!(u64::from_be_bytes(entry.value.as_slice().try_into().unwrap()), 80);
}
