//! The entries' SQL: reads, the compare-and-swap writes and deletes, counts, and the purge of expired rows.
//!
//! Blocking; `BoundedConnection::run` calls these on tokio's blocking pool. Every write is one `BEGIN
//! IMMEDIATE` transaction: it takes the file's write lock before it reads what it compares, so a writer in
//! another process cannot slip in between the read and the write (SQLite's documentation of transactions:
//! a deferred transaction that reads and then writes can fail with SQLITE_BUSY and no busy-handler retry
//! instead).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::connection::Problem;
use crate::clock::unix_now;
use crate::store::shared::{Expect, Kind, StoreKey, Versioned, Written};

/// Now in Unix seconds, as SQLite stores it.
pub(super) fn now() -> i64 {
    seconds(unix_now())
}

/// Unix seconds as SQLite stores them (an `INTEGER` is an i64): beyond i64, forever.
pub(super) fn seconds(unix: u64) -> i64 {
    i64::try_from(unix).unwrap_or(i64::MAX)
}

fn version(stored: i64) -> Result<u64, Problem> {
    u64::try_from(stored).map_err(|_| Problem::Sqlite(rusqlite::Error::IntegralValueOutOfRange(0, stored)))
}

pub(super) fn get(connection: &Connection, key: &StoreKey) -> Result<Option<Versioned>, Problem> {
    let mut statement = connection
        .prepare_cached("SELECT version, value FROM entries WHERE kind = ?1 AND name = ?2 AND expires_at > ?3")?;
    let row = statement
        .query_row(params![key.kind.tag(), key.name, now()], |row| Ok((row.get::<_, i64>(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(stored, value)| Ok(Versioned { version: version(stored)?, value })).transpose()
}

/// The version of the live entry under `key`, if any.
fn live_version(connection: &Connection, key: &StoreKey, now: i64) -> Result<Option<i64>, Problem> {
    let mut statement =
        connection.prepare_cached("SELECT version FROM entries WHERE kind = ?1 AND name = ?2 AND expires_at > ?3")?;
    Ok(statement.query_row(params![key.kind.tag(), key.name, now], |row| row.get(0)).optional()?)
}

/// Whether the live entry is as `expect`ed.
fn as_expected(live: Option<i64>, expect: Expect) -> bool {
    match expect {
        Expect::Any => true,
        Expect::Absent => live.is_none(),
        // A version beyond i64 was never handed out: it matches nothing.
        Expect::Version(expected) => live.is_some() && live == i64::try_from(expected).ok(),
    }
}

pub(super) fn put(
    connection: &mut Connection,
    key: &StoreKey,
    expect: Expect,
    value: &[u8],
    expires_at: u64,
) -> Result<Written, Problem> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !as_expected(live_version(&transaction, key, now())?, expect) {
        return Ok(Written::Conflict);
    }
    // Drawn from the counter in the file, in this transaction: never one handed out before, for any key.
    let next: i64 = transaction
        .prepare_cached("UPDATE meta SET value = value + 1 WHERE name = 'last_version' RETURNING value")?
        .query_row([], |row| row.get(0))?;
    transaction
        .prepare_cached(
            "INSERT INTO entries (kind, name, version, value, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, name) DO UPDATE
             SET version = excluded.version, value = excluded.value, expires_at = excluded.expires_at",
        )?
        .execute(params![key.kind.tag(), key.name, next, value, seconds(expires_at)])?;
    transaction.commit()?;
    Ok(Written::Done { version: version(next)? })
}

pub(super) fn delete(connection: &mut Connection, key: &StoreKey, expect: Expect) -> Result<Written, Problem> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !as_expected(live_version(&transaction, key, now())?, expect) {
        return Ok(Written::Conflict);
    }
    // An expired row goes too: it was absent already.
    transaction
        .prepare_cached("DELETE FROM entries WHERE kind = ?1 AND name = ?2")?
        .execute(params![key.kind.tag(), key.name])?;
    transaction.commit()?;
    Ok(Written::Done { version: 0 })
}

pub(super) fn count(connection: &Connection, kind: Kind) -> Result<usize, Problem> {
    let count: i64 = connection
        .prepare_cached("SELECT count(*) FROM entries WHERE kind = ?1 AND expires_at > ?2")?
        .query_row(params![kind.tag(), now()], |row| row.get(0))?;
    Ok(usize::try_from(count).unwrap_or_default())
}

/// Deletes the expired rows; how many.
pub(super) fn purge_expired(connection: &mut Connection) -> Result<usize, Problem> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let purged = transaction.prepare_cached("DELETE FROM entries WHERE expires_at <= ?1")?.execute([now()])?;
    transaction.commit()?;
    Ok(purged)
}
