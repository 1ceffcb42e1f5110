//! The Redis backend of the shared store ([`RedisStore`]): one Redis (6.2 or later) shared by every instance of
//! the app, reached through the `redis` crate's connection manager (one multiplexed connection, reconnected by
//! itself) and one pub/sub connection for notices ([`notices`]).
//!
//! # Key layout
//!
//! An entry of kind `kind` named `name` is the Redis key
//!
//! ```text
//! <key_prefix>{<name as 64 lowercase hex digits>}:<kind tag>      e.g. msal:{3fa1…9c0e}:t
//! ```
//!
//! The `{…}` is a Redis Cluster hash tag: the slot is computed from the name alone, so one user's entries of
//! every kind (their token cache `t` and refresh lease `l` share a name, see `sealing`) live on one slot, and
//! each compare-and-swap script touches one key of one slot. Kind tags are those of [`Kind::tag`]. (The layout is
//! ready for a cluster; the client is not: it talks to one server, or to a proxy in front of a cluster.)
//!
//! The key holds a string: the entry's version (8 bytes, big-endian) followed by the value's bytes as they were
//! put, with its expiry (`PXAT`) one millisecond before `expires_at`'s second, since Redis keeps a key through
//! the millisecond it expires at; Redis's clock decides, so instances' clocks and Redis's must agree (NTP). A
//! write whose `expires_at` has come by this instance's clock deletes the entry instead (and still reports
//! `Done`). Notices go through `PUBLISH <key_prefix>notices`.
//!
//! Versions are random non-zero 64-bit numbers: a version handed out again for the same key is 2^-64-unlikely,
//! which the contract allows; conditional writes and deletes are one Lua script (`EVALSHA`, falling back to
//! `EVAL`) that compares the stored version and writes or deletes atomically.
//!
//! [`SharedStore::count`] walks `SCAN … MATCH`: on Redis Cluster that is one node's keys only, which is enough
//! for tests and operations, the only users of counts.
//!
//! # Failures
//!
//! Every request is bounded by [`RedisOptions::timeout`] (the connection manager's connection and response
//! timeouts, and a timeout around each call): Redis down or slow answers [`StoreError::Unavailable`] within it,
//! and calls work again by themselves when Redis is back. [`RedisStore::connect`] itself fails when Redis does
//! not answer then: a server missing at start-up is more likely a setting to fix than an outage to ride out.
//! Errors and `Debug` name the server as `scheme://host:port[/db]`, never with the URL's credentials.

mod endpoint;
mod notices;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Script, cmd};
use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::clock::unix_now;
use crate::random::random_bytes;
use crate::store::error::StoreError;
use crate::store::redis::endpoint::{Endpoint, Misconfigured};
use crate::store::redis::notices::Listener;
use crate::store::shared::{
    Expect, Kind, MAX_NOTICE_BYTES, NOTICE_BACKLOG, Notice, SharedStore, StoreKey, Versioned, Written,
};

/// How a [`RedisStore`] names its keys and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedisOptions {
    /// Put in front of every key and of the notice channel, so that apps (or environments) sharing one Redis
    /// stay apart; without `{` or `}`, which would move the keys' hash tag. Default `msal:`.
    pub(crate) key_prefix: String,
    /// The longest any call waits for Redis (connecting included) before it answers
    /// [`StoreError::Unavailable`]. Default 2 s.
    pub(crate) timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions { key_prefix: "msal:".to_owned(), timeout: Duration::from_secs(2) }
    }
}

/// How many times the connection manager retries a connection before the calls waiting on it fail (the next
/// call starts over), and its backoff between tries: one retry rides out a blip (a failover), and a Redis that
/// is down costs a call 0.1–0.2 s, not the whole timeout.
const RECONNECT_RETRIES: usize = 1;
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(100);
const RECONNECT_LONGEST_DELAY: Duration = Duration::from_secs(1);

/// How many keys one `SCAN` step asks for.
const SCAN_BATCH: usize = 1000;

/// The last second an entry may be kept to (9999-12-31T23:59:59Z), so that its expiry in milliseconds stays
/// far inside what Redis takes.
const LATEST_EXPIRY: u64 = 253_402_300_799;

/// The length of the version in front of every stored value.
const VERSION_LEN: usize = 8;

/// The compare-and-swap of one key, for `put` and `delete`.
///
/// `KEYS[1]`: the key. `ARGV[1]`: what it must hold: `absent`, `any`, or `version` (then `ARGV[2]` is that
/// version's 8 bytes). `ARGV[3]`: `set` (`ARGV[4]`: the new stored string, `ARGV[5]`: its `PXAT`) or `del`.
/// Answers 1 when done, 0 on a conflict. `GETRANGE` reads the version alone, not a value of megabytes; an
/// expired key is absent to it, as to every command (a script sees time stand still at its start).
const COMPARE_AND_SWAP: &str = r"
local current = redis.call('GETRANGE', KEYS[1], 0, 7)
if ARGV[1] == 'absent' then
  if current ~= '' then return 0 end
elseif ARGV[1] == 'version' then
  if current ~= ARGV[2] then return 0 end
end
if ARGV[3] == 'set' then
  redis.call('SET', KEYS[1], ARGV[4], 'PXAT', ARGV[5])
else
  redis.call('DEL', KEYS[1])
end
return 1
";

/// A [`SharedStore`] in Redis. `Debug` names the server (never its credentials), the prefix and the timeout.
pub(crate) struct RedisStore {
    endpoint: Endpoint,
    commands: ConnectionManager,
    compare_and_swap: Script,
    key_prefix: String,
    channel: String,
    timeout: Duration,
    notices: broadcast::Sender<Notice>,
    _listener: Listener,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.endpoint)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What a compare-and-swap does when the entry is as expected.
enum Change<'a> {
    Set { stored: &'a [u8], expires_at_ms: u64 },
    Delete,
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS
    /// with the system's root certificates) and subscribes to its notices.
    ///
    /// Fails with [`StoreError::Unavailable`] if `url` is not such a URL or `options` are not valid
    /// ([`Misconfigured`]), or if Redis does not answer within `options.timeout`; the error names the host, never
    /// the password.
    pub(crate) async fn connect(url: &str, options: RedisOptions) -> Result<RedisStore, StoreError> {
        if options.key_prefix.contains(['{', '}']) {
            return Err(StoreError::unavailable(Misconfigured::KeyPrefix("it may not contain { or }")));
        }
        if options.timeout.is_zero() {
            return Err(StoreError::unavailable(Misconfigured::Timeout));
        }
        let endpoint = Endpoint::parse(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_FIRST_DELAY)
            .set_max_delay(RECONNECT_LONGEST_DELAY);
        let commands = ConnectionManager::new_lazy_with_config(endpoint.client.clone(), config)
            .map_err(|error| endpoint.failed(error))?;
        let mut first = commands.clone();
        let _: ::redis::Value = endpoint.bounded(options.timeout, cmd("PING").query_async(&mut first)).await?;

        let channel = format!("{}notices", options.key_prefix);
        let subscription = notices::subscribe(&endpoint, &channel, options.timeout).await?;
        let (sender, _) = broadcast::channel(NOTICE_BACKLOG);
        let listener =
            Listener::start(subscription, endpoint.clone(), channel.clone(), options.timeout, sender.clone());
        Ok(RedisStore {
            endpoint,
            commands,
            compare_and_swap: Script::new(COMPARE_AND_SWAP),
            key_prefix: options.key_prefix,
            channel,
            timeout: options.timeout,
            notices: sender,
            _listener: listener,
        })
    }

    /// The Redis key of `key` (see the module docs).
    fn redis_key(&self, key: &StoreKey) -> String {
        format!("{}{{{}}}:{}", self.key_prefix, key.hex_name(), key.kind.tag())
    }

    /// The `SCAN` pattern of every key of `kind`.
    fn pattern(&self, kind: Kind) -> String {
        let mut pattern = String::with_capacity(self.key_prefix.len() + 70);
        for c in self.key_prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('{');
        pattern.push_str(&"?".repeat(64));
        pattern.push_str("}:");
        pattern.push_str(kind.tag());
        pattern
    }

    /// Runs the compare-and-swap script on `key`: `true` when done, `false` on a conflict.
    async fn compare_and_swap(&self, key: &StoreKey, expect: Expect, change: Change<'_>) -> Result<bool, StoreError> {
        let mut invocation = self.compare_and_swap.key(self.redis_key(key));
        match expect {
            Expect::Absent => invocation.arg("absent").arg(""),
            Expect::Any => invocation.arg("any").arg(""),
            Expect::Version(version) => invocation.arg("version").arg(&version.to_be_bytes()[..]),
        };
        match change {
            Change::Set { stored, expires_at_ms } => invocation.arg("set").arg(stored).arg(expires_at_ms),
            Change::Delete => invocation.arg("del"),
        };
        let mut connection = self.commands.clone();
        let done: i64 = self.endpoint.bounded(self.timeout, invocation.invoke_async(&mut connection)).await?;
        Ok(done == 1)
    }
}

/// A version no one has (random, never 0).
fn new_version() -> u64 {
    loop {
        let version = u64::from_be_bytes(random_bytes::<VERSION_LEN>());
        if version != 0 {
            return version;
        }
    }
}

#[async_trait]
impl SharedStore for RedisStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Versioned>, StoreError> {
        let redis_key = self.redis_key(key);
        let mut connection = self.commands.clone();
        let stored: Option<Vec<u8>> =
            self.endpoint.bounded(self.timeout, cmd("GET").arg(&redis_key).query_async(&mut connection)).await?;
        let Some(mut value) = stored else { return Ok(None) };
        if value.len() < VERSION_LEN {
            return Err(self.endpoint.malformed(&redis_key));
        }
        let version = u64::from_be_bytes(value[..VERSION_LEN].try_into().expect("8 bytes"));
        value.drain(..VERSION_LEN);
        Ok(Some(Versioned { version, value }))
    }

    async fn put(&self, key: &StoreKey, expect: Expect, value: &[u8], expires_at: u64) -> Result<Written, StoreError> {
        let version = new_version();
        let done = if expires_at <= unix_now() {
            self.compare_and_swap(key, expect, Change::Delete).await?
        } else {
            let mut stored = Vec::with_capacity(VERSION_LEN + value.len());
            stored.extend_from_slice(&version.to_be_bytes());
            stored.extend_from_slice(value);
            let expires_at_ms = expires_at.min(LATEST_EXPIRY) * 1000 - 1;
            self.compare_and_swap(key, expect, Change::Set { stored: &stored, expires_at_ms }).await?
        };
        Ok(if done { Written::Done { version } } else { Written::Conflict })
    }

    async fn delete(&self, key: &StoreKey, expect: Expect) -> Result<Written, StoreError> {
        let done = self.compare_and_swap(key, expect, Change::Delete).await?;
        Ok(if done { Written::Done { version: 0 } } else { Written::Conflict })
    }

    /// Each `SCAN` step is bounded by the timeout, not the walk: a large database takes as long as it takes.
    async fn count(&self, kind: Kind) -> Result<usize, StoreError> {
        let pattern = self.pattern(kind);
        let mut connection = self.commands.clone();
        // SCAN may return a key twice (when Redis resizes its table meanwhile): count distinct keys.
        let mut keys = HashSet::new();
        let mut cursor = 0u64;
        loop {
            let mut step = cmd("SCAN");
            step.arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(SCAN_BATCH);
            let (next, batch): (u64, Vec<Vec<u8>>) =
                self.endpoint.bounded(self.timeout, step.query_async(&mut connection)).await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys.len());
            }
            cursor = next;
        }
    }

    async fn publish(&self, notice: &[u8]) -> Result<(), StoreError> {
        // Redis carries more, but a backend with a limit would not: a larger notice is a caller's bug.
        debug_assert!(notice.len() <= MAX_NOTICE_BYTES, "a notice of {} bytes", notice.len());
        let mut connection = self.commands.clone();
        let _receivers: i64 = self
            .endpoint
            .bounded(self.timeout, cmd("PUBLISH").arg(&self.channel).arg(notice).query_async(&mut connection))
            .await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }
}
