//! `CachePartition::from_msal_json` and `TokenCache::import_msal_json`: MSAL cache JSON written by another
//! MSAL library, a file, or a store that someone else can write to.

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{block_on, config, tricky_string};
use crate::acquire::access_token::AccessToken;
use crate::cache::schema::{
    AccessTokenEntry, AccountEntry, AppMetadataEntry, CachePartition, IdTokenEntry, RefreshTokenEntry,
};
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::provider::account::AuthorityType;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        tricky_string(12).prop_map(Value::String),
        "[0-9]{1,25}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The fields MSAL entries have, each with a value of the right type or of a wrong one.
fn entry_like() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just("home_account_id"),
        Just("environment"),
        Just("client_id"),
        Just("realm"),
        Just("credential_type"),
        Just("secret"),
        Just("target"),
        Just("cached_at"),
        Just("expires_on"),
        Just("extended_expires_on"),
        Just("refresh_on"),
        Just("token_type"),
        Just("last_modification_time"),
        Just("family_id"),
        Just("local_account_id"),
        Just("username"),
        Just("authority_type"),
        Just("name"),
        Just("client_info"),
    ];
    let value = prop_oneof![
        3 => "[ -~]{0,12}".prop_map(Value::String),
        2 => any::<u64>().prop_map(|n| Value::String(n.to_string())),
        1 => Just(Value::String("MSSTS".into())),
        1 => Just(Value::String("Mail.Read User.Read".into())),
        1 => json_value(),
    ];
    proptest::collection::btree_map(field, value, 0..19)
        .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// A cache document with MSAL's sections, holding entry-like objects under arbitrary keys.
fn cache_like() -> impl Strategy<Value = Value> {
    let section = proptest::collection::btree_map(tricky_string(8), entry_like(), 0..3);
    proptest::collection::btree_map(
        prop_oneof![
            Just("AccessToken"),
            Just("RefreshToken"),
            Just("IdToken"),
            Just("Account"),
            Just("AppMetadata"),
            Just("Other")
        ],
        section,
        0..6,
    )
    .prop_map(|sections| {
        Value::Object(
            sections
                .into_iter()
                .map(|(name, entries)| (name.to_owned(), Value::Object(entries.into_iter().collect())))
                .collect(),
        )
    })
}

/// Fields other MSAL libraries add, which must survive a rewrite (never one of the schema's own names).
fn other_fields() -> impl Strategy<Value = Map<String, Value>> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        tricky_string(8).prop_map(Value::String),
    ];
    proptest::collection::btree_map("x_[a-z]{1,6}", value, 0..2).prop_map(|map| map.into_iter().collect())
}

/// Scopes from a small vocabulary: imported targets are interned for the cache-hit path (`cache/hot.rs`),
/// and the interner is process-wide, so random names would fill it for the tests that share the process.
fn target() -> impl Strategy<Value = ScopeSet> {
    let scope = proptest::sample::select(vec!["Mail.Read", "mail.send", "User.Read", "openid", "api://a/x.y"]);
    proptest::collection::vec(scope, 0..4).prop_map(|scopes| ScopeSet::from_strs(scopes).unwrap())
}

/// A token a bearer header can carry: visible ASCII, not empty.
fn bearer_secret() -> impl Strategy<Value = Secret> {
    "[!-~]{1,24}".prop_map(Secret::new)
}

/// Times from the schema's whole range, and expiries after now so that the user's partition is kept.
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), 0..4_000_000_000u64]
}

fn future() -> impl Strategy<Value = u64> {
    let now = unix_now();
    prop_oneof![now + 3600..now + 400 * 86_400, now + 3600..u64::MAX]
}

fn text() -> impl Strategy<Value = String> {
    tricky_string(10)
}

/// One user's partition as this crate writes it, with any field values the schema allows.
fn partition(home: String) -> impl Strategy<Value = CachePartition> {
    let access_token = (
        (text(), text(), text(), text(), bearer_secret(), target()),
        (time(), future(), time(), proptest::option::of(time()), proptest::option::of(text()), other_fields()),
    )
        .prop_map({
            let home = home.clone();
            move |((environment, client_id, realm, credential_type, secret, target), rest)| {
                let (cached_at, expires_on, extended_expires_on, refresh_on, token_type, other) = rest;
                AccessTokenEntry {
                    home_account_id: home.clone(),
                    environment,
                    client_id,
                    realm,
                    credential_type,
                    secret,
                    target,
                    cached_at,
                    expires_on,
                    extended_expires_on,
                    refresh_on,
                    token_type,
                    other,
                }
            }
        });
    let refresh_token = (
        (text(), text(), text(), tricky_string(16).prop_map(Secret::new)),
        (
            proptest::option::of(text()),
            proptest::option::of(time()),
            proptest::option::of(text()),
            proptest::option::of(future()),
            other_fields(),
        ),
    )
        .prop_map({
            let home = home.clone();
            move |((environment, client_id, credential_type, secret), rest)| {
                let (target, last_modification_time, family_id, expires_on, other) = rest;
                RefreshTokenEntry {
                    home_account_id: home.clone(),
                    environment,
                    client_id,
                    credential_type,
                    secret,
                    target,
                    last_modification_time,
                    family_id,
                    expires_on,
                    other,
                }
            }
        });
    let id_token =
        (text(), text(), text(), text(), tricky_string(16).prop_map(Secret::new), other_fields()).prop_map({
            let home = home.clone();
            move |(environment, realm, client_id, credential_type, secret, other)| IdTokenEntry {
                home_account_id: home.clone(),
                environment,
                realm,
                client_id,
                credential_type,
                secret,
                other,
            }
        });
    let account = (
        (text(), text(), text(), text(), prop_oneof![Just(AuthorityType::MsSts), Just(AuthorityType::Generic)]),
        (proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()), other_fields()),
    )
        .prop_map(move |((environment, realm, local_account_id, username, authority_type), rest)| {
            let (name, client_info, account_source, other) = rest;
            AccountEntry {
                home_account_id: home.clone(),
                environment,
                realm,
                local_account_id,
                username,
                authority_type,
                name,
                client_info,
                account_source,
                other,
            }
        });
    let app_metadata = (text(), text(), proptest::option::of(text()), other_fields()).prop_map(
        |(client_id, environment, family_id, other)| AppMetadataEntry { client_id, environment, family_id, other },
    );
    (
        proptest::collection::btree_map(text(), access_token, 0..3),
        proptest::collection::btree_map(text(), refresh_token, 0..2),
        proptest::collection::btree_map(text(), id_token, 0..2),
        proptest::collection::btree_map(text(), account, 1..2),
        proptest::collection::btree_map(text(), app_metadata, 0..2),
    )
        .prop_map(|(access_tokens, refresh_tokens, id_tokens, accounts, app_metadata)| CachePartition {
            access_tokens,
            refresh_tokens,
            id_tokens,
            accounts,
            app_metadata,
        })
}

/// A user's id and their partition.
fn user_partition() -> impl Strategy<Value = (String, CachePartition)> {
    tricky_string(16)
        .prop_filter("a user's id", |home| !home.is_empty())
        .prop_flat_map(|home| (Just(home.clone()), partition(home)))
}

fn as_value(partition: &CachePartition) -> Value {
    serde_json::from_str(&partition.to_msal_json()).unwrap()
}

/// `partition` as a cache of `new_cache`'s authority holds it: entries of its environment, access tokens that
/// are plain bearer tokens (what an import skips otherwise is the tolerant reader's own test).
fn importable(mut partition: CachePartition) -> CachePartition {
    const ENVIRONMENT: &str = "login.example";
    for at in partition.access_tokens.values_mut() {
        at.environment = ENVIRONMENT.to_owned();
        at.credential_type = "AccessToken".to_owned();
        at.token_type = at.token_type.take().map(|_| "Bearer".to_owned());
        at.other.remove("key_id");
        at.other.remove("ext_cache_key");
    }
    partition.refresh_tokens.values_mut().for_each(|rt| rt.environment = ENVIRONMENT.to_owned());
    partition.id_tokens.values_mut().for_each(|id| id.environment = ENVIRONMENT.to_owned());
    partition.accounts.values_mut().for_each(|account| account.environment = ENVIRONMENT.to_owned());
    partition
}

fn new_cache() -> TokenCache {
    TokenCache::in_memory(NonZeroUsize::new(16).unwrap(), Duration::from_secs(90 * 86_400), "client")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string_is_read_or_refused_without_panicking(json in tricky_string(64)) {
        let _ = CachePartition::from_msal_json(&json);
    }

    #[test]
    fn any_json_value_is_read_or_refused_without_panicking(value in json_value()) {
        let _ = CachePartition::from_msal_json(&value.to_string());
    }

    #[test]
    fn cache_like_documents_are_read_or_refused_without_panicking(value in cache_like()) {
        if let Ok(partition) = CachePartition::from_msal_json(&value.to_string()) {
            let _ = partition.to_msal_json();
            let authority = crate::provider::authority::Authority::parse("https://login.example").unwrap();
            let _ = partition.split_by_account(&crate::provider::account::MsalShape::of(&authority), &mut Vec::new());
        }
    }

    #[test]
    fn every_access_token_read_can_be_sent_as_a_bearer_token(value in cache_like()) {
        if let Ok(partition) = CachePartition::from_msal_json(&value.to_string()) {
            for entry in partition.access_tokens.values() {
                let secret = entry.secret.expose();
                prop_assert!(!secret.is_empty() && secret.bytes().all(|b| b.is_ascii_graphic()));
                // What a handler gets from a cache hit: its header and its expiry, neither of which may panic.
                let token = AccessToken::new(entry.secret.clone(), entry.expires_on);
                let _ = token.authorization_header();
                let _ = token.expires_on();
            }
        }
    }

    #[test]
    fn a_partition_written_reads_back_unchanged((_, partition) in user_partition()) {
        let json = partition.to_msal_json();
        let read = CachePartition::from_msal_json(&json).unwrap();
        prop_assert_eq!(as_value(&read), as_value(&partition));
    }

    #[test]
    fn an_access_token_that_is_not_visible_ascii_is_dropped_and_nothing_else(
        (_, mut partition) in user_partition(),
        bad in "[!-~]{0,8}[ \t\r\n\u{7f}\u{e9}][!-~]{0,8}|",
    ) {
        let mut expected = partition.clone();
        if let Some(entry) = partition.access_tokens.values_mut().next() {
            entry.secret = Secret::new(bad);
            let key = partition.access_tokens.keys().next().unwrap().clone();
            expected.access_tokens.remove(&key);
        }
        let read = CachePartition::from_msal_json(&partition.to_msal_json()).unwrap();
        prop_assert_eq!(as_value(&read), as_value(&expected));
    }

    #[test]
    fn any_string_or_document_is_imported_or_refused_without_panicking(
        json in prop_oneof![
            tricky_string(64),
            json_value().prop_map(|v| v.to_string()),
            cache_like().prop_map(|v| v.to_string()),
        ],
    ) {
        let cache = new_cache();
        let _ = block_on(cache.import_msal_json(&json));
    }

    #[test]
    fn an_exported_partition_imports_back_unchanged((home, partition) in user_partition()) {
        let partition = importable(partition);
        let cache = new_cache();
        let key = cache.account_key(&home);
        let report = block_on(cache.import_msal_json(&partition.to_msal_json())).unwrap();
        prop_assert_eq!(&report.accounts, &vec![key.clone()]);
        prop_assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let exported = block_on(cache.export_msal_json(&key)).unwrap().unwrap();
        prop_assert_eq!(serde_json::from_str::<Value>(&exported).unwrap(), as_value(&partition));
        // And into a second cache, as a move between stores would.
        let other = new_cache();
        prop_assert_eq!(block_on(other.import_msal_json(&exported)).unwrap().accounts, vec![key.clone()]);
        prop_assert_eq!(block_on(other.export_msal_json(&key)).unwrap(), Some(exported));
    }

    #[test]
    fn a_token_served_from_an_imported_cache_reports_its_expiry((home, partition) in user_partition()) {
        let partition = importable(partition);
        let cache = new_cache();
        block_on(cache.import_msal_json(&partition.to_msal_json())).unwrap();
        let stored = block_on(cache.load(&cache.account_key(&home))).unwrap().unwrap();
        for entry in stored.partition.access_tokens.values() {
            // As a cache hit hands it to a handler (`acquire/silent.rs`); these expiries are all in the future.
            let token = AccessToken::new(entry.secret.clone(), entry.expires_on);
            prop_assert!(token.expires_on() > SystemTime::now());
            let _ = token.authorization_header();
        }
    }

    #[test]
    fn an_entry_of_the_wrong_shape_refuses_the_whole_document(
        (_, partition) in user_partition(),
        section in proptest::sample::select(vec!["AccessToken", "RefreshToken", "IdToken", "Account"]),
        broken in prop_oneof![Just(json!(null)), Just(json!(5)), Just(json!("x")), Just(json!([])), Just(json!({}))],
    ) {
        let mut document = as_value(&partition);
        document[section]["broken-entry"] = broken;
        prop_assert!(CachePartition::from_msal_json(&document.to_string()).is_err());
    }
}
