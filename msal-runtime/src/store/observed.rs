//! Every call to the shared store, measured (`telemetry`: count, outcome, duration by operation) and spanned
//! (`store` at debug level: the operation and the kind of entry, never a key or a value).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::store::error::StoreError;
use crate::store::shared::{Expect, Kind, Notice, SharedStore, StoreKey, Versioned, Written};

/// A shared store whose calls are observed.
pub(crate) struct Observed(pub(crate) Arc<dyn SharedStore>);

impl fmt::Debug for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

async fn observe<T>(
    op: &'static str,
    kind: Option<Kind>,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let span = tracing::debug_span!("store", op, kind = kind.map(Kind::tag), outcome = tracing::field::Empty);
    let started = Instant::now();
    let result = call.instrument(span.clone()).await;
    span.record("outcome", if result.is_ok() { "ok" } else { "error" });
    crate::telemetry::store_call(op, result.is_ok(), started.elapsed());
    if let Err(error) = &result {
        tracing::warn!(parent: &span, error = %error, "a store call failed");
    }
    result
}

#[async_trait]
impl SharedStore for Observed {
    async fn get(&self, key: &StoreKey) -> Result<Option<Versioned>, StoreError> {
        observe("get", Some(key.kind), self.0.get(key)).await
    }

    async fn put(&self, key: &StoreKey, expect: Expect, value: &[u8], expires_at: u64) -> Result<Written, StoreError> {
        observe("put", Some(key.kind), self.0.put(key, expect, value, expires_at)).await
    }

    async fn delete(&self, key: &StoreKey, expect: Expect) -> Result<Written, StoreError> {
        observe("delete", Some(key.kind), self.0.delete(key, expect)).await
    }

    async fn count(&self, kind: Kind) -> Result<usize, StoreError> {
        observe("count", Some(kind), self.0.count(kind)).await
    }

    async fn publish(&self, notice: &[u8]) -> Result<(), StoreError> {
        observe("publish", None, self.0.publish(notice)).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.0.subscribe()
    }
}
