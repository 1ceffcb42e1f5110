//! Property tests for every parser of untrusted input: request parameters, cookies, return URLs, scopes,
//! MSAL cache JSON, ID and bearer tokens, `Retry-After`, and what the provider sends back.
//!
//! Each property runs [`DEFAULT_CASES`] cases unless `PROPTEST_CASES` is set, so that CI runs a fixed number
//! and anyone can run many more: `PROPTEST_CASES=10000 cargo test -p msal-runtime proptests`.

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

mod cache_json;
mod cookies;
mod params;
mod provider_responses;
mod request_headers;
mod retry_after;
mod return_url;
mod scopes;
mod sign_in_cookies;
mod tokens;
mod www_authenticate;

/// Cases per property when `PROPTEST_CASES` is not set: enough to reach the interesting shapes of each
/// strategy, few enough that the whole suite stays within seconds in a debug build on two cores.
const DEFAULT_CASES: u32 = 256;

/// The configuration of every property here: [`DEFAULT_CASES`] cases, or `PROPTEST_CASES` when the user set
/// it (an explicit `cases` would silently override the variable that `ProptestConfig::default()` reads).
pub(crate) fn config() -> ProptestConfig {
    let from_env = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        from_env
    } else {
        ProptestConfig { cases: DEFAULT_CASES, ..from_env }
    }
}

/// Any string, weighted towards the characters that parsers of URLs, headers and JSON treat specially.
pub(crate) fn tricky_string(max_len: usize) -> impl Strategy<Value = String> {
    let tricky = prop_oneof![
        4 => proptest::char::range('\x20', '\x7e'),
        2 => proptest::sample::select(vec![
            '/', '\\', ':', '.', '%', '=', '&', ';', ',', '+', ' ', '"', '\'', '#', '?', '@', '\t', '\n', '\r',
            '\0', '\x7f', 'é', '\u{2028}', '\u{feff}', '\u{fffd}', '🦀',
        ]),
        1 => any::<char>(),
    ];
    proptest::collection::vec(tricky, 0..max_len).prop_map(|chars| chars.into_iter().collect())
}

/// Runs a future to completion on this thread. The parsers under test await nothing that needs a Tokio
/// runtime (signing keys built for tests never re-fetch), and a runtime per case would dominate the time.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

#[test]
fn an_explicit_case_count_does_not_override_proptest_cases() {
    // The only way this helper could go wrong: reading the variable is proptest's job, ours is to not undo it.
    let expected = match std::env::var("PROPTEST_CASES") {
        Ok(value) => value.parse().unwrap_or(ProptestConfig::default().cases),
        Err(_) => DEFAULT_CASES,
    };
    assert_eq!(config().cases, expected);
}
