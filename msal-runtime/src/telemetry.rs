//! What the runtime reports, through the `metrics` facade (any exporter the app installs: Prometheus,
//! OpenTelemetry, StatsD) and `tracing` spans. The README ("Observing it") lists the names. Labels are fixed
//! words, never request input, a user or a token, so a metric's series stay few.

use std::time::Duration;

/// Token lookups: `tier` is `l1` (answered in process memory without a load) or `store` (a load), `outcome`
/// is `hit` or `miss`.
pub const CACHE_LOOKUPS: &str = "msal_cache_lookups_total";
/// Token endpoint requests: `grant` is `authorization_code` or `refresh_token`; `outcome` is `ok`,
/// `rejected` (an OAuth error answer), or `unavailable` (5xx, 429, timeouts, unreadable answers).
pub const PROVIDER_REQUESTS: &str = "msal_provider_requests_total";
/// Their duration in seconds, by `grant`.
pub const PROVIDER_REQUEST_SECONDS: &str = "msal_provider_request_duration_seconds";
/// Requests that joined a refresh already in flight instead of starting one.
pub const REFRESHES_JOINED: &str = "msal_refreshes_joined_total";
/// Refreshes not sent: a failure with the same refresh token, or a `Retry-After`, is remembered.
pub const REFRESHES_THROTTLED: &str = "msal_refreshes_throttled_total";
/// Calls to the shared store (embedded or Redis), by `op` (`get`, `put`, `delete`, `count`, `publish`) and
/// `outcome` (`ok` or `error`).
pub const STORE_CALLS: &str = "msal_store_calls_total";
/// Their duration in seconds, by `op`.
pub const STORE_CALL_SECONDS: &str = "msal_store_call_duration_seconds";
/// Callbacks, by `outcome`: `signed_in`, `rejected`, or `duplicate` (a copy of a callback answered with the
/// first one's outcome).
pub const SIGN_INS: &str = "msal_sign_ins_total";

pub(crate) fn cache_lookup(tier: &'static str, hit: bool) {
    metrics::counter!(CACHE_LOOKUPS, "tier" => tier, "outcome" => if hit { "hit" } else { "miss" }).increment(1);
}

pub(crate) fn provider_request(grant: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!(PROVIDER_REQUESTS, "grant" => grant, "outcome" => outcome).increment(1);
    metrics::histogram!(PROVIDER_REQUEST_SECONDS, "grant" => grant).record(took.as_secs_f64());
}

pub(crate) fn refresh_joined() {
    metrics::counter!(REFRESHES_JOINED).increment(1);
}

pub(crate) fn refresh_throttled() {
    metrics::counter!(REFRESHES_THROTTLED).increment(1);
}

pub(crate) fn store_call(op: &'static str, ok: bool, took: Duration) {
    metrics::counter!(STORE_CALLS, "op" => op, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    metrics::histogram!(STORE_CALL_SECONDS, "op" => op).record(took.as_secs_f64());
}

pub(crate) fn sign_in(outcome: &'static str) {
    metrics::counter!(SIGN_INS, "outcome" => outcome).increment(1);
}
