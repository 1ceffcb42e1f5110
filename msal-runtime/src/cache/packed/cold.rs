//! What a cache hit does not read, in one buffer per partition: the MSAL entities in postcard's compact
//! encoding (numbers as varints, no field names), with shared strings as symbols, the account id written once,
//! and an entry's key only when it is not the one MSAL's format derives from its fields (an imported cache
//! may use others).

use std::borrow::Cow;

use parking_lot::RwLockReadGuard;
use serde::{Deserialize, Serialize};

use crate::cache::packed::symbols::{self, Symbols};
use crate::cache::schema::{
    AccessTokenEntry, AccountEntry, AppMetadataEntry, CachePartition, IdTokenEntry, RefreshTokenEntry,
};
use crate::provider::account::AuthorityType;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// Fields written by other MSAL libraries.
type OtherFields = serde_json::Map<String, serde_json::Value>;

/// A string of an entry.
#[derive(Serialize, Deserialize)]
enum Str<'a> {
    /// The partition's key: the user's account id, which every entry repeats.
    Key,
    /// A process-wide symbol (see `symbols`).
    Symbol(u32),
    /// The entry's own value.
    Own(#[serde(borrow)] Cow<'a, str>),
}

/// Turns the strings of one partition into [`Str`]s.
struct Writer<'k> {
    key: &'k str,
}

impl Writer<'_> {
    /// A value other users likely share.
    fn shared<'a>(&self, value: impl Into<Cow<'a, str>>) -> Str<'a> {
        let value = value.into();
        if value == self.key {
            return Str::Key;
        }
        symbols::symbol(&value).map_or(Str::Own(value), Str::Symbol)
    }

    /// A value of this user's own.
    fn own<'a>(&self, value: &'a str) -> Str<'a> {
        if value == self.key { Str::Key } else { Str::Own(Cow::Borrowed(value)) }
    }

    fn other<'a>(&self, other: &OtherFields) -> Option<Cow<'a, str>> {
        // A map of JSON values always serializes.
        (!other.is_empty()).then(|| Cow::Owned(serde_json::to_string(other).unwrap_or_default()))
    }

    /// The key, unless it is the one derived from the entry's fields.
    fn entry_key<'a>(&self, key: &'a str, derived: String) -> Option<Str<'a>> {
        (key != derived).then(|| self.own(key))
    }
}

/// Turns [`Str`]s back into strings; `None` for a symbol that was never handed out (a corrupted buffer).
struct Reader<'k> {
    key: &'k str,
    symbols: RwLockReadGuard<'static, Symbols>,
}

impl Reader<'_> {
    fn string(&self, value: &Str<'_>) -> Option<String> {
        Some(match value {
            Str::Key => self.key.to_owned(),
            Str::Symbol(id) => self.symbols.get(*id)?.to_owned(),
            Str::Own(value) => value.clone().into_owned(),
        })
    }

    fn option(&self, value: &Option<Str<'_>>) -> Option<Option<String>> {
        match value {
            None => Some(None),
            Some(value) => self.string(value).map(Some),
        }
    }

    fn other(&self, other: &Option<Cow<'_, str>>) -> Option<OtherFields> {
        other.as_ref().map_or(Some(OtherFields::new()), |other| serde_json::from_str(other).ok())
    }

    /// The entry's key: as stored, or derived from its fields.
    fn entry_key(&self, key: &Option<Str<'_>>, derive: impl FnOnce() -> String) -> Option<String> {
        key.as_ref().map_or_else(|| Some(derive()), |key| self.string(key))
    }
}

#[derive(Serialize, Deserialize)]
struct ColdAccessToken<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    #[serde(borrow)]
    home_account_id: Str<'a>,
    #[serde(borrow)]
    environment: Str<'a>,
    #[serde(borrow)]
    client_id: Str<'a>,
    #[serde(borrow)]
    realm: Str<'a>,
    #[serde(borrow)]
    credential_type: Str<'a>,
    #[serde(borrow)]
    target: Str<'a>,
    cached_at: u64,
    extended_expires_on: u64,
    #[serde(borrow)]
    token_type: Option<Str<'a>>,
    #[serde(borrow)]
    other: Option<Cow<'a, str>>,
}

#[derive(Serialize, Deserialize)]
struct ColdRefreshToken<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    secret: &'a str,
    #[serde(borrow)]
    home_account_id: Str<'a>,
    #[serde(borrow)]
    environment: Str<'a>,
    #[serde(borrow)]
    client_id: Str<'a>,
    #[serde(borrow)]
    credential_type: Str<'a>,
    #[serde(borrow)]
    target: Option<Str<'a>>,
    last_modification_time: Option<u64>,
    #[serde(borrow)]
    family_id: Option<Str<'a>>,
    expires_on: Option<u64>,
    #[serde(borrow)]
    other: Option<Cow<'a, str>>,
}

#[derive(Serialize, Deserialize)]
struct ColdIdToken<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    secret: &'a str,
    #[serde(borrow)]
    home_account_id: Str<'a>,
    #[serde(borrow)]
    environment: Str<'a>,
    #[serde(borrow)]
    realm: Str<'a>,
    #[serde(borrow)]
    client_id: Str<'a>,
    #[serde(borrow)]
    credential_type: Str<'a>,
    #[serde(borrow)]
    other: Option<Cow<'a, str>>,
}

#[derive(Serialize, Deserialize)]
struct ColdAccount<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    #[serde(borrow)]
    home_account_id: Str<'a>,
    #[serde(borrow)]
    environment: Str<'a>,
    #[serde(borrow)]
    realm: Str<'a>,
    #[serde(borrow)]
    local_account_id: Str<'a>,
    #[serde(borrow)]
    username: Str<'a>,
    authority_type: AuthorityType,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    client_info: Option<Str<'a>>,
    #[serde(borrow)]
    account_source: Option<Str<'a>>,
    #[serde(borrow)]
    other: Option<Cow<'a, str>>,
}

#[derive(Serialize, Deserialize)]
struct ColdAppMetadata<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    #[serde(borrow)]
    client_id: Str<'a>,
    #[serde(borrow)]
    environment: Str<'a>,
    #[serde(borrow)]
    family_id: Option<Str<'a>>,
    #[serde(borrow)]
    other: Option<Cow<'a, str>>,
}

/// The cold part of a partition. Access tokens are in key order, as the partition's hot tokens.
#[derive(Serialize, Deserialize)]
struct ColdPartition<'a> {
    #[serde(borrow)]
    access_tokens: Vec<ColdAccessToken<'a>>,
    #[serde(borrow)]
    refresh_tokens: Vec<ColdRefreshToken<'a>>,
    #[serde(borrow)]
    id_tokens: Vec<ColdIdToken<'a>>,
    #[serde(borrow)]
    accounts: Vec<ColdAccount<'a>>,
    #[serde(borrow)]
    app_metadata: Vec<ColdAppMetadata<'a>>,
}

/// Appends the cold part of `partition`, stored under `key`, to `buffer`.
pub(super) fn write(key: &str, partition: &CachePartition, buffer: Vec<u8>) -> Result<Vec<u8>, postcard::Error> {
    let w = Writer { key };
    let cold = ColdPartition {
        access_tokens: (partition.access_tokens.iter())
            .map(|(key, at)| ColdAccessToken {
                key: w.entry_key(key, at.key()),
                home_account_id: w.own(&at.home_account_id),
                environment: w.shared(&*at.environment),
                client_id: w.shared(&*at.client_id),
                realm: w.shared(&*at.realm),
                credential_type: w.shared(&*at.credential_type),
                target: w.shared(at.target.to_scope_string()),
                cached_at: at.cached_at,
                extended_expires_on: at.extended_expires_on,
                token_type: at.token_type.as_deref().map(|value| w.shared(value)),
                other: w.other(&at.other),
            })
            .collect(),
        refresh_tokens: (partition.refresh_tokens.iter())
            .map(|(key, rt)| ColdRefreshToken {
                key: w.entry_key(key, rt.key()),
                secret: rt.secret.expose(),
                home_account_id: w.own(&rt.home_account_id),
                environment: w.shared(&*rt.environment),
                client_id: w.shared(&*rt.client_id),
                credential_type: w.shared(&*rt.credential_type),
                target: rt.target.as_deref().map(|value| w.shared(value)),
                last_modification_time: rt.last_modification_time,
                family_id: rt.family_id.as_deref().map(|value| w.shared(value)),
                expires_on: rt.expires_on,
                other: w.other(&rt.other),
            })
            .collect(),
        id_tokens: (partition.id_tokens.iter())
            .map(|(key, id)| ColdIdToken {
                key: w.entry_key(key, id.key()),
                secret: id.secret.expose(),
                home_account_id: w.own(&id.home_account_id),
                environment: w.shared(&*id.environment),
                realm: w.shared(&*id.realm),
                client_id: w.shared(&*id.client_id),
                credential_type: w.shared(&*id.credential_type),
                other: w.other(&id.other),
            })
            .collect(),
        accounts: (partition.accounts.iter())
            .map(|(key, account)| ColdAccount {
                key: w.entry_key(key, account.key()),
                home_account_id: w.own(&account.home_account_id),
                environment: w.shared(&*account.environment),
                realm: w.shared(&*account.realm),
                local_account_id: w.own(&account.local_account_id),
                username: w.own(&account.username),
                authority_type: account.authority_type,
                name: account.name.as_deref().map(|value| w.own(value)),
                client_info: account.client_info.as_deref().map(|value| w.own(value)),
                account_source: account.account_source.as_deref().map(|value| w.shared(value)),
                other: w.other(&account.other),
            })
            .collect(),
        app_metadata: (partition.app_metadata.iter())
            .map(|(key, metadata)| ColdAppMetadata {
                key: w.entry_key(key, metadata.key()),
                client_id: w.shared(&*metadata.client_id),
                environment: w.shared(&*metadata.environment),
                family_id: metadata.family_id.as_deref().map(|value| w.shared(value)),
                other: w.other(&metadata.other),
            })
            .collect(),
    };
    postcard::to_extend(&cold, buffer)
}

/// The partition stored under `key` again, from its cold part and its access tokens' secrets and times (in
/// key order, as written); `None` when the buffer is not one [`write`] produced.
pub(super) fn read(
    key: &str,
    buffer: &[u8],
    hot: impl ExactSizeIterator<Item = (Secret, u64, Option<u64>)>,
) -> Option<CachePartition> {
    let cold: ColdPartition<'_> = postcard::from_bytes(buffer).ok()?;
    if cold.access_tokens.len() != hot.len() {
        return None;
    }
    let r = Reader { key, symbols: symbols::read() };
    let mut partition = CachePartition::default();
    for (at, (secret, expires_on, refresh_on)) in cold.access_tokens.iter().zip(hot) {
        let entry = AccessTokenEntry {
            home_account_id: r.string(&at.home_account_id)?,
            environment: r.string(&at.environment)?,
            client_id: r.string(&at.client_id)?,
            realm: r.string(&at.realm)?,
            credential_type: r.string(&at.credential_type)?,
            secret,
            target: ScopeSet::parse(&r.string(&at.target)?).ok()?,
            cached_at: at.cached_at,
            expires_on,
            extended_expires_on: at.extended_expires_on,
            refresh_on,
            token_type: r.option(&at.token_type)?,
            other: r.other(&at.other)?,
        };
        partition.access_tokens.insert(r.entry_key(&at.key, || entry.key())?, entry);
    }
    for rt in &cold.refresh_tokens {
        let entry = RefreshTokenEntry {
            home_account_id: r.string(&rt.home_account_id)?,
            environment: r.string(&rt.environment)?,
            client_id: r.string(&rt.client_id)?,
            credential_type: r.string(&rt.credential_type)?,
            secret: Secret::new(rt.secret),
            target: r.option(&rt.target)?,
            last_modification_time: rt.last_modification_time,
            family_id: r.option(&rt.family_id)?,
            expires_on: rt.expires_on,
            other: r.other(&rt.other)?,
        };
        partition.refresh_tokens.insert(r.entry_key(&rt.key, || entry.key())?, entry);
    }
    for id in &cold.id_tokens {
        let entry = IdTokenEntry {
            home_account_id: r.string(&id.home_account_id)?,
            environment: r.string(&id.environment)?,
            realm: r.string(&id.realm)?,
            client_id: r.string(&id.client_id)?,
            credential_type: r.string(&id.credential_type)?,
            secret: Secret::new(id.secret),
            other: r.other(&id.other)?,
        };
        partition.id_tokens.insert(r.entry_key(&id.key, || entry.key())?, entry);
    }
    for account in &cold.accounts {
        let entry = AccountEntry {
            home_account_id: r.string(&account.home_account_id)?,
            environment: r.string(&account.environment)?,
            realm: r.string(&account.realm)?,
            local_account_id: r.string(&account.local_account_id)?,
            username: r.string(&account.username)?,
            authority_type: account.authority_type,
            name: r.option(&account.name)?,
            client_info: r.option(&account.client_info)?,
            account_source: r.option(&account.account_source)?,
            other: r.other(&account.other)?,
        };
        partition.accounts.insert(r.entry_key(&account.key, || entry.key())?, entry);
    }
    for metadata in &cold.app_metadata {
        let entry = AppMetadataEntry {
            client_id: r.string(&metadata.client_id)?,
            environment: r.string(&metadata.environment)?,
            family_id: r.option(&metadata.family_id)?,
            other: r.other(&metadata.other)?,
        };
        partition.app_metadata.insert(r.entry_key(&metadata.key, || entry.key())?, entry);
    }
    Some(partition)
}
