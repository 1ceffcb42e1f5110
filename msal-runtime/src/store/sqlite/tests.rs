use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::*;
use crate::clock::unix_now;
use crate::random::random_bytes;
use crate::store::shared::MAX_NOTICE_BYTES;
use crate::store::suite::{key, later, version};

/// A fresh folder under the temp dir, removed with its files when dropped.
#[derive(Debug)]
struct TempFolder(PathBuf);

impl TempFolder {
    fn new() -> Self {
        let name: String = random_bytes::<8>().iter().map(|byte| format!("{byte:02x}")).collect();
        TempFolder(std::env::temp_dir().join(format!("msal-runtime-sqlite-{name}")))
    }

    fn file(&self) -> PathBuf {
        self.0.join("store.db")
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A handle that keeps its temp folder until the last handle on it is dropped.
#[derive(Debug)]
struct TestHandle {
    store: SqliteStore,
    _folder: Arc<TempFolder>,
}

#[async_trait]
impl SharedStore for TestHandle {
    async fn get(&self, key: &StoreKey) -> Result<Option<Versioned>, StoreError> {
        self.store.get(key).await
    }

    async fn put(&self, key: &StoreKey, expect: Expect, value: &[u8], expires_at: u64) -> Result<Written, StoreError> {
        self.store.put(key, expect, value, expires_at).await
    }

    async fn delete(&self, key: &StoreKey, expect: Expect) -> Result<Written, StoreError> {
        self.store.delete(key, expect).await
    }

    async fn count(&self, kind: Kind) -> Result<usize, StoreError> {
        self.store.count(kind).await
    }

    async fn publish(&self, notice: &[u8]) -> Result<(), StoreError> {
        self.store.publish(notice).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.store.subscribe()
    }
}

async fn handle_on(folder: &Arc<TempFolder>) -> Arc<dyn SharedStore> {
    let store = SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap();
    Arc::new(TestHandle { store, _folder: Arc::clone(folder) })
}

/// Two handles on one fresh file, as two processes of an app would open it; the file goes with the last
/// handle. For the suites of the tiers above, which run on real stores.
pub(crate) async fn fresh_handles() -> (Arc<dyn SharedStore>, Arc<dyn SharedStore>) {
    let folder = Arc::new(TempFolder::new());
    (handle_on(&folder).await, handle_on(&folder).await)
}

crate::store::suite::shared_store_suite!(sqlite_store, fresh_handles);

/// A connection of another program to the file, beside the store's own.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn rows(path: &Path, table: &str) -> i64 {
    raw(path).query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
}

/// The message of an `Unavailable`, which must name the path.
fn unavailable_at_open(result: Result<SqliteStore, StoreError>, path: &Path) -> String {
    match result {
        Err(error @ StoreError::Unavailable(_)) => {
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            message
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

async fn next_notice(notices: &mut broadcast::Receiver<Notice>) -> Notice {
    tokio::time::timeout(Duration::from_secs(5), notices.recv()).await.expect("a notice arrives").unwrap()
}

#[tokio::test]
async fn reopening_keeps_values_and_versions_and_never_repeats_a_version() {
    let folder = TempFolder::new();
    let k = key(Kind::Tokens, 1);
    let v1 = {
        let store = SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap();
        version(store.put(&k, Expect::Absent, b"kept", later()).await.unwrap())
    };
    let mut seen = std::collections::HashSet::from([v1]);
    for round in 0..5 {
        let store = SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap();
        let entry = store.get(&k).await.unwrap().unwrap();
        if round == 0 {
            assert_eq!((entry.version, entry.value.as_slice()), (v1, &b"kept"[..]));
        }
        assert_eq!(store.delete(&k, Expect::Version(entry.version)).await.unwrap(), Written::Done { version: 0 });
        let v = version(store.put(&k, Expect::Absent, b"again", later()).await.unwrap());
        assert!(seen.insert(v), "version {v} handed out twice");
    }
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_unavailable_at_open() {
    let folder = TempFolder::new();
    std::fs::create_dir_all(&folder.0).unwrap();
    std::fs::write(folder.file(), "these are not the bytes of a database\n".repeat(200)).unwrap();
    let message =
        unavailable_at_open(SqliteStore::open(&folder.file(), SqliteOptions::default()).await, &folder.file());
    assert!(message.contains("not a database"), "{message}");
}

#[tokio::test]
async fn a_corrupt_store_file_is_unavailable_at_open() {
    let folder = TempFolder::new();
    std::fs::create_dir_all(&folder.0).unwrap();
    // SQLite's header, then garbage where the page size and the rest should be.
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(folder.file(), bytes).unwrap();
    unavailable_at_open(SqliteStore::open(&folder.file(), SqliteOptions::default()).await, &folder.file());
}

#[tokio::test]
async fn a_directory_is_unavailable_at_open() {
    let folder = TempFolder::new();
    std::fs::create_dir_all(folder.file()).unwrap();
    unavailable_at_open(SqliteStore::open(&folder.file(), SqliteOptions::default()).await, &folder.file());
}

#[tokio::test]
async fn another_applications_database_is_refused() {
    let folder = TempFolder::new();
    std::fs::create_dir_all(&folder.0).unwrap();
    raw(&folder.file()).execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY)").unwrap();
    let message =
        unavailable_at_open(SqliteStore::open(&folder.file(), SqliteOptions::default()).await, &folder.file());
    assert!(message.contains("not a store of msal-runtime"), "{message}");
    assert_eq!(rows(&folder.file(), "orders"), 0, "left as it was");
}

#[tokio::test]
async fn a_store_of_a_newer_format_is_refused() {
    let folder = TempFolder::new();
    drop(SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap());
    raw(&folder.file()).pragma_update(None, "user_version", open::FORMAT + 1).unwrap();
    let result = SqliteStore::open(&folder.file(), SqliteOptions::default()).await;
    let message = unavailable_at_open(result, &folder.file());
    assert!(message.contains("newer"), "{message}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_files_and_new_folders_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let folder = TempFolder::new();
    let path = folder.0.join("nested").join("store.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).await.unwrap();
    store.put(&key(Kind::Session, 1), Expect::Any, b"s", later()).await.unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&folder.0), 0o700);
    assert_eq!(mode(&folder.0.join("nested")), 0o700);
}

#[tokio::test]
async fn expired_rows_are_deleted_from_the_file() {
    let folder = TempFolder::new();
    let options = SqliteOptions { purge_every: Duration::from_secs(3600), ..SqliteOptions::default() };
    let store = SqliteStore::open(&folder.file(), options).await.unwrap();
    // Let the poller's first purge (right after opening) pass.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for name in 0..3 {
        store.put(&key(Kind::Tokens, name), Expect::Any, b"old", unix_now()).await.unwrap();
    }
    store.put(&key(Kind::Tokens, 9), Expect::Any, b"live", later()).await.unwrap();
    // Notices past their retention, as a process that published them long ago left them.
    let old = i64::try_from(unix_now()).unwrap() - 2 * notices::NOTICE_RETENTION.as_secs() as i64;
    raw(&folder.file())
        .execute("INSERT INTO notices (created_at, body) VALUES (?1, x'01'), (?1, x'02')", [old])
        .unwrap();
    store.publish(b"recent").await.unwrap();
    assert_eq!(rows(&folder.file(), "entries"), 4);
    assert_eq!(store.purge_expired().await.unwrap(), 3);
    assert_eq!(rows(&folder.file(), "entries"), 1);
    assert_eq!(rows(&folder.file(), "notices"), 1, "the recent notice stays");
    assert_eq!(store.get(&key(Kind::Tokens, 9)).await.unwrap().unwrap().value, b"live");
}

#[tokio::test]
async fn the_poller_purges_by_itself() {
    let folder = TempFolder::new();
    let options = SqliteOptions { purge_every: Duration::from_millis(100), ..SqliteOptions::default() };
    let store = SqliteStore::open(&folder.file(), options).await.unwrap();
    store.put(&key(Kind::Session, 1), Expect::Any, b"old", unix_now()).await.unwrap();
    let started = Instant::now();
    while rows(&folder.file(), "entries") > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "expired rows stay in the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_new_handle_hears_only_later_notices() {
    let folder = Arc::new(TempFolder::new());
    let a = handle_on(&folder).await;
    let mut on_a = a.subscribe();
    a.publish(b"before").await.unwrap();
    assert_eq!(next_notice(&mut on_a).await, Notice::Published(b"before".to_vec()));
    let b = handle_on(&folder).await;
    let mut on_b = b.subscribe();
    a.publish(b"after").await.unwrap();
    assert_eq!(next_notice(&mut on_b).await, Notice::Published(b"after".to_vec()));
}

#[tokio::test]
async fn a_poller_whose_unread_notices_were_pruned_hears_lost_first() {
    let folder = Arc::new(TempFolder::new());
    let store = handle_on(&folder).await;
    let mut notices = store.subscribe();
    // Another process publishes three notices and prunes the first two before this one polls.
    let mut other = raw(&folder.file());
    let transaction = other.transaction().unwrap();
    let mut seqs = Vec::new();
    for body in [b"1", b"2", b"3"] {
        transaction.execute("INSERT INTO notices (created_at, body) VALUES (0, ?1)", [&body[..]]).unwrap();
        seqs.push(transaction.last_insert_rowid());
    }
    transaction.execute("DELETE FROM notices WHERE seq <= ?1", [seqs[1]]).unwrap();
    transaction.execute("UPDATE meta SET value = ?1 WHERE name = 'notices_pruned_through'", [seqs[1]]).unwrap();
    transaction.commit().unwrap();
    assert_eq!(next_notice(&mut notices).await, Notice::Lost);
    assert_eq!(next_notice(&mut notices).await, Notice::Published(b"3".to_vec()));
}

#[tokio::test]
async fn a_failing_poll_sends_lost_once() {
    let folder = Arc::new(TempFolder::new());
    let store = handle_on(&folder).await;
    let mut notices = store.subscribe();
    raw(&folder.file()).execute_batch("DROP TABLE notices").unwrap();
    assert_eq!(next_notice(&mut notices).await, Notice::Lost);
    let again = tokio::time::timeout(Duration::from_millis(500), notices.recv()).await;
    assert!(again.is_err(), "heard again: {again:?}");
    assert!(store.publish(b"x").await.is_err(), "no table to publish to");
}

#[tokio::test]
async fn a_held_write_lock_answers_unavailable_within_the_timeout_then_works_again() {
    let folder = TempFolder::new();
    let options = SqliteOptions { timeout: Duration::from_millis(300), ..SqliteOptions::default() };
    let store = SqliteStore::open(&folder.file(), options).await.unwrap();
    let k = key(Kind::Tokens, 1);
    let v = version(store.put(&k, Expect::Absent, b"one", later()).await.unwrap());
    let other = raw(&folder.file());
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let blocked = store.put(&k, Expect::Version(v), b"two", later()).await;
    assert!(matches!(blocked, Err(StoreError::Unavailable(_))), "{blocked:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
    // Readers are not blocked by a writer.
    assert_eq!(store.get(&k).await.unwrap().unwrap().version, v);
    other.execute_batch("ROLLBACK").unwrap();
    version(store.put(&k, Expect::Version(v), b"two", later()).await.unwrap());
}

#[tokio::test]
async fn dropping_the_last_handle_stops_its_poller() {
    let folder = TempFolder::new();
    let store = Arc::new(SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap());
    let mut notices = store.subscribe();
    let clone = Arc::clone(&store);
    drop(store);
    clone.publish(b"still here").await.unwrap();
    assert_eq!(next_notice(&mut notices).await, Notice::Published(b"still here".to_vec()));
    drop(clone);
    let closed = tokio::time::timeout(Duration::from_secs(5), notices.recv()).await.expect("the poller stops");
    assert_eq!(closed, Err(broadcast::error::RecvError::Closed));
}

#[tokio::test]
async fn a_notice_larger_than_the_limit_is_refused() {
    let folder = TempFolder::new();
    let store = SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap();
    store.publish(&[7; MAX_NOTICE_BYTES]).await.unwrap();
    let refused = store.publish(&[7; MAX_NOTICE_BYTES + 1]).await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
}

#[tokio::test]
async fn debug_shows_the_path() {
    let folder = TempFolder::new();
    let store = SqliteStore::open(&folder.file(), SqliteOptions::default()).await.unwrap();
    assert!(format!("{store:?}").contains(&format!("{:?}", folder.file())), "{store:?}");
}

#[test]
fn opening_outside_a_tokio_runtime_is_unavailable_not_a_panic() {
    let folder = TempFolder::new();
    let result = futures::executor::block_on(SqliteStore::open(&folder.file(), SqliteOptions::default()));
    let message = unavailable_at_open(result, &folder.file());
    assert!(message.contains("tokio runtime"), "{message}");
}

#[tokio::test]
async fn options_out_of_range_are_brought_within_it() {
    let folder = TempFolder::new();
    let options = SqliteOptions { timeout: Duration::MAX, notice_poll: Duration::ZERO, purge_every: Duration::ZERO };
    let store = SqliteStore::open(&folder.file(), options).await.unwrap();
    let mut notices = store.subscribe();
    store.publish(b"still works").await.unwrap();
    assert_eq!(next_notice(&mut notices).await, Notice::Published(b"still works".to_vec()));
}
