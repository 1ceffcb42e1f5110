//! Notices through the file: `publish` appends a row to `notices`; each handle's poller reads the rows after
//! the last one it read and broadcasts them to its subscribers, and purges now and then.
//!
//! SQLite tells no other process of a commit, so the poller asks, every `notice_poll`, on its own connection:
//! `PRAGMA data_version` changes when another connection has committed (SQLite's documentation of PRAGMA
//! data_version), so an idle store costs one cheap pragma per poll, and the table is read only when something
//! was written.

use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;

use super::connection::{BoundedConnection, Problem};
use super::entries::{self, now};
use crate::store::shared::{MAX_NOTICE_BYTES, Notice};

/// How long a notice is kept for pollers that fell behind (a poll or two late is the usual). Older ones are
/// pruned; a poller that had not read them hears [`Notice::Lost`].
pub(super) const NOTICE_RETENTION: Duration = Duration::from_secs(60);

pub(super) fn publish(connection: &Connection, body: &[u8]) -> Result<(), Problem> {
    if body.len() > MAX_NOTICE_BYTES {
        return Err(Problem::NoticeTooLarge(body.len()));
    }
    connection
        .prepare_cached("INSERT INTO notices (created_at, body) VALUES (?1, ?2)")?
        .execute(params![now(), body])?;
    Ok(())
}

/// Deletes the notices older than [`NOTICE_RETENTION`], and records the last one it deleted, so that a
/// poller that had not read it knows it lost notices. Always a prefix of the sequence (by `seq`, not by the
/// publishers' clocks), so "lost" is exactly "pruned after the last one I read".
pub(super) fn prune(connection: &mut Connection) -> Result<usize, Problem> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cutoff = now().saturating_sub(NOTICE_RETENTION.as_secs() as i64);
    let through: Option<i64> =
        transaction.query_row("SELECT max(seq) FROM notices WHERE created_at < ?1", [cutoff], |row| row.get(0))?;
    let mut pruned = 0;
    if let Some(through) = through {
        pruned = transaction.execute("DELETE FROM notices WHERE seq <= ?1", [through])?;
        transaction
            .execute("UPDATE meta SET value = max(value, ?1) WHERE name = 'notices_pruned_through'", [through])?;
    }
    transaction.commit()?;
    Ok(pruned)
}

/// Deletes expired entries and old notices: what keeps the file from growing without bound (freed pages are
/// reused by later writes; the file does not shrink).
pub(super) fn purge(connection: &mut Connection) -> Result<usize, Problem> {
    let purged = entries::purge_expired(connection)?;
    prune(connection)?;
    Ok(purged)
}

/// Where a poller stands: the `data_version` it last saw, and the last notice it read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Position {
    data_version: Option<i64>,
    last_seq: i64,
}

impl Position {
    /// Now: a new handle hears notices published from here on, not the ones still kept in the file.
    pub(super) fn now(connection: &Connection) -> Result<Self, Problem> {
        // data_version first: a notice committed between the two reads is skipped (it is older than the
        // handle) and merely makes the next poll read the table once for nothing.
        let data_version = connection.pragma_query_value(None, "data_version", |row| row.get(0))?;
        // The highest sequence number ever handed out, even if that notice was pruned since.
        let last_seq = connection.query_row(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'notices'), 0)",
            [],
            |row| row.get(0),
        )?;
        Ok(Position { data_version: Some(data_version), last_seq })
    }
}

/// What one poll found.
struct Polled {
    position: Position,
    /// Notices were pruned before this poller read them.
    lost: bool,
    notices: Vec<Vec<u8>>,
}

fn poll_once(connection: &mut Connection, from: Position) -> Result<Polled, Problem> {
    let data_version: i64 = connection.pragma_query_value(None, "data_version", |row| row.get(0))?;
    if from.data_version == Some(data_version) {
        return Ok(Polled { position: from, lost: false, notices: Vec::new() });
    }
    // One read transaction: the prune mark and the rows of one snapshot.
    let transaction = connection.transaction()?;
    let pruned_through: i64 =
        transaction.query_row("SELECT value FROM meta WHERE name = 'notices_pruned_through'", [], |row| row.get(0))?;
    let mut last_seq = from.last_seq;
    let mut notices = Vec::new();
    {
        let mut statement = transaction.prepare_cached("SELECT seq, body FROM notices WHERE seq > ?1 ORDER BY seq")?;
        let mut rows = statement.query([from.last_seq])?;
        while let Some(row) = rows.next()? {
            last_seq = row.get(0)?;
            notices.push(row.get(1)?);
        }
    }
    transaction.commit()?;
    Ok(Polled {
        position: Position { data_version: Some(data_version), last_seq },
        lost: pruned_through > from.last_seq,
        notices,
    })
}

/// A handle's background task: polls for notices and purges, on its own connection, until the handle is
/// dropped (which aborts it).
pub(super) struct Poller {
    pub(super) connection: BoundedConnection,
    pub(super) notices: broadcast::Sender<Notice>,
    pub(super) position: Position,
    pub(super) notice_poll: Duration,
    pub(super) purge_every: Duration,
}

impl Poller {
    pub(super) async fn run(mut self) {
        let mut ticks = tokio::time::interval(self.notice_poll);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut failing = false;
        let mut last_purge: Option<Instant> = None;
        loop {
            ticks.tick().await;
            let from = self.position;
            match self.connection.run(move |connection| poll_once(connection, from)).await {
                Ok(polled) => {
                    if failing {
                        tracing::info!("reading notices from the SQLite store works again");
                        failing = false;
                    }
                    if polled.lost {
                        tracing::warn!("notices were pruned from the SQLite store before this instance read them");
                        self.send(Notice::Lost);
                    }
                    for notice in polled.notices {
                        self.send(Notice::Published(notice));
                    }
                    self.position = polled.position;
                }
                Err(failure) => {
                    // Read the table on the next poll whatever data_version says; until then, and once per
                    // outage, subscribers hear that they may have missed notices.
                    self.position.data_version = None;
                    if !failing {
                        failing = true;
                        tracing::warn!(error = %failure, "reading notices from the SQLite store failed");
                        self.send(Notice::Lost);
                    }
                }
            }
            if last_purge.is_none_or(|at| at.elapsed() >= self.purge_every) {
                last_purge = Some(Instant::now());
                if let Err(failure) = self.connection.run(purge).await {
                    tracing::warn!(error = %failure, "purging the SQLite store failed; trying again later");
                }
            }
        }
    }

    fn send(&self, notice: Notice) {
        // An error only says that no one subscribes right now.
        let _ = self.notices.send(notice);
    }
}
