//! The embedded shared store: one SQLite database file, shared by the app's processes on one host (its
//! instances, and whichever runs after a restart).
//!
//! Each [`SqliteStore`] handle owns two connections to the file: one for the operations (one at a time, on
//! tokio's blocking pool, each bounded by [`SqliteOptions::timeout`]), and one for its poller, a background
//! task that turns other processes' `publish` into notices (see `notices`) and purges expired rows.
//!
//! Processes share the file the way SQLite's write-ahead logging documentation describes: on one host (its
//! -shm index is shared memory), never over a network file system. Writers serialize on the file's write lock;
//! a writer that finds it held waits for it, up to what is left of its timeout, then answers
//! [`StoreError::Unavailable`].

mod connection;
mod entries;
mod notices;
mod open;
#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use self::connection::{BoundedConnection, Failure};
use self::notices::{Poller, Position};
use crate::store::error::StoreError;
use crate::store::shared::{Expect, Kind, NOTICE_BACKLOG, Notice, SharedStore, StoreKey, Versioned, Written};

/// How a [`SqliteStore`] handle waits and polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SqliteOptions {
    /// The longest any call (and opening the file) may take, waiting for another process's write lock
    /// included; past it the call answers [`StoreError::Unavailable`]. Default: 2 s.
    pub(crate) timeout: Duration,
    /// How often the poller looks for other processes' notices: the delay before an instance hears of another
    /// one's write. Default: 100 ms (an idle poll is one cheap pragma).
    pub(crate) notice_poll: Duration,
    /// How often each handle deletes expired entries and old notices from the file. Default: 60 s.
    pub(crate) purge_every: Duration,
}

impl SqliteOptions {
    /// Within what the parts below take: a busy timeout fits SQLite's C `int` of milliseconds (about 24 days),
    /// and a poll interval is not zero (tokio's interval panics on zero).
    fn usable(self) -> Self {
        SqliteOptions {
            timeout: self.timeout.min(connection::MAX_BUSY_TIMEOUT),
            notice_poll: self.notice_poll.max(Duration::from_millis(1)),
            purge_every: self.purge_every,
        }
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            timeout: Duration::from_secs(2),
            notice_poll: Duration::from_millis(100),
            purge_every: Duration::from_secs(60),
        }
    }
}

/// A handle on a store file. Dropping it (the last `Arc` of it) stops its poller and closes its connections.
pub(crate) struct SqliteStore {
    path: Arc<Path>,
    options: SqliteOptions,
    connection: BoundedConnection,
    notices: broadcast::Sender<Notice>,
    poller: AbortHandle,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it (0600, in folders created 0700) or checking that it is a store
    /// of a format this version reads, and starts the handle's poller.
    ///
    /// Async because it touches the disk and may wait for another process's write lock (within
    /// `options.timeout`). It runs on a tokio runtime, which the poller is spawned on (outside one, it answers
    /// `Unavailable`). A folder, a file this user may not write, a file that is not SQLite, another
    /// application's database or a store of a newer format are [`StoreError::Unavailable`], naming the path.
    pub(crate) async fn open(path: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        let path: Arc<Path> = Arc::from(path);
        tokio::runtime::Handle::try_current().map_err(|outside| Failure::new(&path, outside))?;
        let options = options.usable();
        let opening = {
            let path = Arc::clone(&path);
            tokio::task::spawn_blocking(move || {
                let operations = open::connect(&path, options.timeout)?;
                let polling = open::connect(&path, options.timeout)?;
                let position = Position::now(&polling)?;
                Ok((operations, polling, position))
            })
        };
        let opened = match tokio::time::timeout(options.timeout, opening).await {
            Ok(Ok(opened)) => opened,
            Ok(Err(stopped)) => Err(connection::Problem::Worker(stopped)),
            Err(_elapsed) => Err(connection::Problem::TimedOut(options.timeout)),
        };
        let (operations, polling, position) = opened.map_err(|problem| Failure::new(&path, problem))?;
        let (notices, _) = broadcast::channel(NOTICE_BACKLOG);
        let poller = Poller {
            connection: BoundedConnection::new(Arc::clone(&path), options.timeout, polling),
            notices: notices.clone(),
            position,
            notice_poll: options.notice_poll,
            purge_every: options.purge_every,
        };
        let poller = tokio::spawn(poller.run()).abort_handle();
        Ok(SqliteStore {
            connection: BoundedConnection::new(Arc::clone(&path), options.timeout, operations),
            path,
            options,
            notices,
            poller,
        })
    }

    /// Deletes the expired entries and the old notices now (the poller does it every
    /// [`SqliteOptions::purge_every`]); how many entries went.
    #[cfg(test)]
    pub(crate) async fn purge_expired(&self) -> Result<usize, StoreError> {
        Ok(self.connection.run(notices::purge).await?)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).field("options", &self.options).finish_non_exhaustive()
    }
}

#[async_trait]
impl SharedStore for SqliteStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Versioned>, StoreError> {
        let key = *key;
        Ok(self.connection.run(move |connection| entries::get(connection, &key)).await?)
    }

    async fn put(&self, key: &StoreKey, expect: Expect, value: &[u8], expires_at: u64) -> Result<Written, StoreError> {
        let (key, value) = (*key, value.to_vec());
        Ok(self.connection.run(move |connection| entries::put(connection, &key, expect, &value, expires_at)).await?)
    }

    async fn delete(&self, key: &StoreKey, expect: Expect) -> Result<Written, StoreError> {
        let key = *key;
        Ok(self.connection.run(move |connection| entries::delete(connection, &key, expect)).await?)
    }

    async fn count(&self, kind: Kind) -> Result<usize, StoreError> {
        Ok(self.connection.run(move |connection| entries::count(connection, kind)).await?)
    }

    async fn publish(&self, notice: &[u8]) -> Result<(), StoreError> {
        let notice = notice.to_vec();
        Ok(self.connection.run(move |connection| notices::publish(connection, &notice)).await?)
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }
}
