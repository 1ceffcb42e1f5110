//! One SQLite connection of a handle, used from async code: each call runs on tokio's blocking pool and is
//! bounded by the handle's timeout, and whatever goes wrong comes back as a [`Failure`] naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::Mutex;

use crate::store::error::StoreError;
use crate::store::shared::MAX_NOTICE_BYTES;

/// The store failed, and where: what [`StoreError::Unavailable`] carries.
#[derive(Debug, thiserror::Error)]
#[error("the SQLite store {}: {problem}", path.display())]
pub(super) struct Failure {
    path: PathBuf,
    problem: Problem,
}

impl Failure {
    pub(super) fn new(path: &Path, problem: impl Into<Problem>) -> Self {
        Failure { path: path.to_owned(), problem: problem.into() }
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        StoreError::unavailable(failure)
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub(super) enum Problem {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {0:?} (another process may hold the write lock, or the disk is slow)")]
    TimedOut(Duration),
    #[error("is an SQLite database with tables of its own, not a store of msal-runtime")]
    NotAStore,
    #[error("is another application's SQLite database (application_id {0:#x}), not a store of msal-runtime")]
    Foreign(i32),
    #[error(
        "is of store format {found}, newer than this version of msal-runtime reads ({supported}): \
         run the newer version, or give this one another file"
    )]
    NewerFormat { found: i64, supported: i64 },
    #[error("is of store format {0}, which this version of msal-runtime does not know")]
    UnknownFormat(i64),
    #[error("could not switch to write-ahead logging (the journal mode stayed {0:?}); is it on a network file system?")]
    NotWal(String),
    #[error("a notice of {0} bytes is larger than the {MAX_NOTICE_BYTES} a store carries")]
    NoticeTooLarge(usize),
    #[error("its worker thread stopped: {0}")]
    Worker(#[from] tokio::task::JoinError),
    #[error("it was opened outside a tokio runtime: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
}

/// The longest busy timeout SQLite takes (milliseconds in a C `int`); `rusqlite` panics beyond it.
pub(super) const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// A connection shared by the calls of one handle, one call at a time.
///
/// A call waits for the connection on the async side (a tokio mutex, first come first served), then runs on
/// the blocking pool, so that calls queued behind a slow one hold no thread. Its deadline covers both: the wait
/// gives up at it, and the busy timeout of the call is what is left of it, so that a locked file cannot hold it
/// longer. A call that times out while running is answered at once, but its blocking part runs to its end
/// (SQLite cannot be stopped in the middle of a disk write): a write may still commit after its caller heard
/// `Unavailable`, as with any networked store.
pub(super) struct BoundedConnection {
    path: Arc<Path>,
    timeout: Duration,
    connection: Arc<Mutex<Connection>>,
}

impl BoundedConnection {
    pub(super) fn new(path: Arc<Path>, timeout: Duration, connection: Connection) -> Self {
        BoundedConnection { path, timeout: timeout.min(MAX_BUSY_TIMEOUT), connection: Arc::new(Mutex::new(connection)) }
    }

    /// Runs `call` on the connection, within the timeout.
    pub(super) async fn run<T, F>(&self, call: F) -> Result<T, Failure>
    where
        F: FnOnce(&mut Connection) -> Result<T, Problem> + Send + 'static,
        T: Send + 'static,
    {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let answer = match tokio::time::timeout_at(deadline.into(), Arc::clone(&self.connection).lock_owned()).await {
            Err(_elapsed) => Err(Problem::TimedOut(timeout)),
            Ok(mut connection) => {
                let blocking = tokio::task::spawn_blocking(move || {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Problem::TimedOut(timeout));
                    }
                    connection.busy_timeout(left)?;
                    call(&mut connection)
                });
                match tokio::time::timeout_at(deadline.into(), blocking).await {
                    Ok(Ok(answer)) => answer,
                    Ok(Err(stopped)) => Err(Problem::Worker(stopped)),
                    Err(_elapsed) => Err(Problem::TimedOut(timeout)),
                }
            }
        };
        answer.map_err(|problem| Failure::new(&self.path, problem))
    }
}
