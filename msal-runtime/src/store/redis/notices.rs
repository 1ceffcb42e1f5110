//! Notices from every instance: one task per store holds a pub/sub connection subscribed to the store's
//! channel and forwards each message to the store's subscribers.
//!
//! When that connection drops (or stops answering a ping), notices published meanwhile are missed, so the task
//! sends [`Notice::Lost`], reconnects with a capped backoff (never a busy loop while Redis is down),
//! re-subscribes, and sends [`Notice::Lost`] again: what was published between the two is gone, and an L1 that
//! emptied itself at the first may have refilled from the store before the second. The task ends when the store
//! drops its [`Listener`].

use std::time::Duration;

use ::redis::aio::{PubSubSink, PubSubStream};
use futures::StreamExt;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::store::error::StoreError;
use crate::store::redis::endpoint::Endpoint;
use crate::store::shared::Notice;

/// The first wait before reconnecting; it doubles on each failure up to [`LONGEST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(2);
/// How often an idle subscription is pinged, so that a connection that died without closing (a host gone, a
/// partition) is noticed within this plus the timeout, not at the next TCP keepalive.
const PING_EVERY: Duration = Duration::from_secs(10);

/// A confirmed subscription to the notice channel.
pub(super) struct Subscription {
    sink: PubSubSink,
    stream: PubSubStream,
}

/// Opens a pub/sub connection and subscribes it to `channel`, within `timeout`.
pub(super) async fn subscribe(
    endpoint: &Endpoint,
    channel: &str,
    timeout: Duration,
) -> Result<Subscription, StoreError> {
    endpoint
        .bounded(timeout, async {
            let (mut sink, stream) = endpoint.client.get_async_pubsub().await?.split();
            sink.subscribe(channel).await?;
            Ok(Subscription { sink, stream })
        })
        .await
}

/// The forwarding task of one store; dropping this ends it (and closes its connection).
#[derive(Debug)]
pub(super) struct Listener {
    task: AbortHandle,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Starts forwarding from `subscription` (on `channel` of `endpoint`) to `notices`.
    pub(super) fn start(
        subscription: Subscription,
        endpoint: Endpoint,
        channel: String,
        timeout: Duration,
        notices: broadcast::Sender<Notice>,
    ) -> Listener {
        let task = tokio::spawn(listen(subscription, endpoint, channel, timeout, notices));
        Listener { task: task.abort_handle() }
    }
}

async fn listen(
    mut subscription: Subscription,
    endpoint: Endpoint,
    channel: String,
    timeout: Duration,
    notices: broadcast::Sender<Notice>,
) {
    loop {
        let why = forward(&mut subscription, &notices, timeout).await;
        // No receiver is not an error: subscribers come and go.
        let _ = notices.send(Notice::Lost);
        tracing::warn!(server = %endpoint, "the Redis notice subscription was lost ({why}); reconnecting");
        subscription = resubscribe(&endpoint, &channel, timeout).await;
        let _ = notices.send(Notice::Lost);
        tracing::info!(server = %endpoint, "the Redis notice subscription is back; notices in between were missed");
    }
}

/// Forwards notices until the connection is gone; returns why.
async fn forward(subscription: &mut Subscription, notices: &broadcast::Sender<Notice>, timeout: Duration) -> String {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = subscription.stream.next() => match message {
                Some(message) => {
                    let _ = notices.send(Notice::Published(message.get_payload_bytes().to_vec()));
                }
                None => return "the connection closed".to_owned(),
            },
            _ = ping.tick() => {
                match tokio::time::timeout(timeout, subscription.sink.ping::<::redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return format!("a ping failed: {error}"),
                    Err(_) => return format!("a ping went unanswered for {timeout:?}"),
                }
            }
        }
    }
}

/// A new subscription, however long Redis takes to come back.
async fn resubscribe(endpoint: &Endpoint, channel: &str, timeout: Duration) -> Subscription {
    let mut wait = FIRST_RETRY;
    loop {
        tokio::time::sleep(wait).await;
        match subscribe(endpoint, channel, timeout).await {
            Ok(subscription) => return subscription,
            Err(error) => tracing::debug!(server = %endpoint, "re-subscribing to notices failed: {error}"),
        }
        wait = (wait * 2).min(LONGEST_RETRY);
    }
}
