//! [`StoreError`]: a store could not do what was asked.

/// A store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing store could not be read or written (down, unreachable, timed out, or refusing writes).
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Concurrent writers kept conflicting; the update was abandoned rather than retried forever.
    #[error("the token cache entry of one user was updated concurrently too many times")]
    Contention,
    /// An entry too large for the store to keep (gigabytes of strings: only a forged import gets there).
    #[error("the token cache entry of one user is too large to store")]
    TooLarge,
}

impl StoreError {
    /// [`StoreError::Unavailable`] from any error of a backing store.
    pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Unavailable(Box::new(error))
    }
}
