//! Opening a store file: its folder and its permissions, the connection's settings, and the schema, created
//! on a new file and checked on an existing one.

use std::fs;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::connection::Problem;

/// Says "this SQLite file is a store of msal-runtime" in the database header (`PRAGMA application_id`, which
/// SQLite's documentation of the database file format reserves for this): "MSAL" in ASCII.
const APPLICATION_ID: i32 = 0x4D53_414C;

/// The store's format, in the header's `PRAGMA user_version`. A version of msal-runtime that changes the
/// tables raises it (and migrates older files); an older version refuses a newer file rather than misread it.
pub(super) const FORMAT: i64 = 1;

/// The tables of format 1.
///
/// - `entries`: one row per key (kind tag, 32-byte name). `expires_at` is in Unix seconds; a row whose
///   `expires_at` is not after now is absent to every operation and deleted by the next purge. Values can be
///   megabytes, so this is a rowid table (SQLite's documentation of WITHOUT ROWID tables advises those for
///   small rows only).
/// - `meta`: counters kept in the file, updated in the transactions that use them: `last_version`, where every
///   entry version is drawn from (so a version never repeats for a key, not even after a delete and a restart),
///   and `notices_pruned_through`, the last notice a purge deleted (a poller that had not read it yet has lost
///   notices).
/// - `notices`: what `publish` sent, in order. `AUTOINCREMENT` so that a sequence number is never handed out
///   again, even once every row was pruned: a poller reads "everything after the last one I read".
const SCHEMA: &str = "
    CREATE TABLE entries (
        kind TEXT NOT NULL,
        name BLOB NOT NULL,
        version INTEGER NOT NULL,
        value BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
    );
    CREATE INDEX entries_by_expiry ON entries (expires_at);
    CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (name, value) VALUES ('last_version', 0), ('notices_pruned_through', 0);
    CREATE TABLE notices (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        body BLOB NOT NULL
    );
";

/// Opens a connection to the store at `path`, creating the file, its folder and its tables if missing.
///
/// Blocking; the caller bounds it with its timeout.
pub(super) fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, Problem> {
    create_private_file(path)?;
    // Not SQLITE_OPEN_CREATE: the file exists by now, with its mode. Not SQLITE_OPEN_URI: a path is a path.
    let mut connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(busy_timeout)?;
    // Write-ahead logging (SQLite's write-ahead logging documentation): readers do not block the writer nor
    // the writer readers, and processes on one host share the file through its -shm index. It is recorded in
    // the file, so every connection of every process uses it. It is also the first statement that reads the
    // file, so a file that is not a database fails here.
    let mode: String = connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Problem::NotWal(mode));
    }
    // In WAL mode, NORMAL syncs at checkpoints, not at every commit (SQLite's documentation of PRAGMA
    // synchronous): a power cut may lose the last commits, never corrupt the file; a crash of the app loses
    // nothing. What the store holds can be fetched again (tokens) or signed in again (sessions).
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // After a burst of large writes, truncate the -wal file back to this size at the next checkpoint instead of
    // keeping it at its largest (SQLite's documentation of PRAGMA journal_size_limit).
    connection.pragma_update(None, "journal_size_limit", 16 * 1024 * 1024)?;
    ensure_schema(&mut connection)?;
    Ok(connection)
}

/// Creates the file if missing, readable and writable by its owner only (0600 on Unix), and missing folders
/// on its way (0700). SQLite creates the -wal and -shm files with the mode of the database file (SQLite's
/// documentation of its Unix VFS), so they are private too. An existing file keeps its mode: the values in it
/// are sealed anyway, and an operator may have shared it with a group on purpose; a warning says so.
///
/// Opening it for writing here also gives a clear error for a folder, or a file this user may not write.
fn create_private_file(path: &Path) -> Result<(), Problem> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        let mut folders = fs::DirBuilder::new();
        folders.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folders, 0o700);
        folders.create(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = ?path, mode = format!("{:o}", mode & 0o777), "the SQLite store file is readable by other users");
        }
    }
    drop(file);
    Ok(())
}

/// Creates the tables in a new file, or checks that an existing one is a store of a format this version reads.
///
/// In one `BEGIN IMMEDIATE` transaction, so that two processes opening a new file at once create the tables
/// once.
fn ensure_schema(connection: &mut Connection) -> Result<(), Problem> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let application_id: i32 = transaction.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let format: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let objects: i64 = transaction.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    match (application_id, format) {
        (0, 0) if objects == 0 => {
            // A new file (or an empty one): make it a store.
            transaction.execute_batch(SCHEMA)?;
            transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
            transaction.pragma_update(None, "user_version", FORMAT)?;
        }
        (APPLICATION_ID, FORMAT) => {}
        (APPLICATION_ID, found) if found > FORMAT => {
            return Err(Problem::NewerFormat { found, supported: FORMAT });
        }
        (APPLICATION_ID, found) => return Err(Problem::UnknownFormat(found)),
        (0, _) => return Err(Problem::NotAStore),
        (other, _) => return Err(Problem::Foreign(other)),
    }
    transaction.commit()?;
    Ok(())
}
