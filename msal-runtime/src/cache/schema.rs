//! MSAL's shared token-cache schema: the entities, their field names, their key formats and their JSON.
//!
//! One partition holds one user's entries in exactly the JSON MSAL libraries serialize
//! (`{"AccessToken": {key: entry}, "RefreshToken": …, "IdToken": …, "Account": …, "AppMetadata": …}`), so a
//! partition exported from here is read by MSAL Python's `SerializableTokenCache` and vice versa. Times are
//! Unix seconds written as strings, as the schema defines them. Fields this crate does not know are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::account::{AccountIdentity, AuthorityType, HomeAccountId, MsalShape, NotOurs};
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// Extra fields written by other MSAL libraries, preserved on rewrite.
type OtherFields = serde_json::Map<String, serde_json::Value>;

/// An access token for one user, client, tenant and scope set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessTokenEntry {
    pub(crate) home_account_id: String,
    pub(crate) environment: String,
    pub(crate) client_id: String,
    pub(crate) realm: String,
    pub(crate) credential_type: String,
    pub(crate) secret: Secret,
    #[serde(with = "target")]
    pub(crate) target: ScopeSet,
    #[serde(with = "unix")]
    pub(crate) cached_at: u64,
    #[serde(with = "unix")]
    pub(crate) expires_on: u64,
    #[serde(with = "unix")]
    pub(crate) extended_expires_on: u64,
    #[serde(default, with = "unix_option", skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_on: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_type: Option<String>,
    #[serde(flatten)]
    pub(crate) other: OtherFields,
}

/// The user's refresh token for this client (one per user and client: Entra's are cross-tenant).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshTokenEntry {
    pub(crate) home_account_id: String,
    pub(crate) environment: String,
    pub(crate) client_id: String,
    pub(crate) credential_type: String,
    pub(crate) secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target: Option<String>,
    #[serde(default, with = "unix_option", skip_serializing_if = "Option::is_none")]
    pub(crate) last_modification_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) family_id: Option<String>,
    /// When the refresh token expires, if the provider said (MSAL.NET writes this field too).
    #[serde(default, with = "unix_option", skip_serializing_if = "Option::is_none")]
    pub(crate) expires_on: Option<u64>,
    #[serde(flatten)]
    pub(crate) other: OtherFields,
}

/// The user's latest ID token (for `id_token_hint` at sign-out and MSAL's account view).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdTokenEntry {
    pub(crate) home_account_id: String,
    pub(crate) environment: String,
    pub(crate) realm: String,
    pub(crate) client_id: String,
    pub(crate) credential_type: String,
    pub(crate) secret: Secret,
    #[serde(flatten)]
    pub(crate) other: OtherFields,
}

/// The account itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountEntry {
    pub(crate) home_account_id: String,
    pub(crate) environment: String,
    pub(crate) realm: String,
    pub(crate) local_account_id: String,
    pub(crate) username: String,
    pub(crate) authority_type: AuthorityType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) account_source: Option<String>,
    #[serde(flatten)]
    pub(crate) other: OtherFields,
}

/// Per-client metadata (family of client ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AppMetadataEntry {
    pub(crate) client_id: String,
    pub(crate) environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) family_id: Option<String>,
    #[serde(flatten)]
    pub(crate) other: OtherFields,
}

/// One user's slice of the token cache, in MSAL's JSON layout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CachePartition {
    #[serde(rename = "AccessToken", default)]
    pub(crate) access_tokens: BTreeMap<String, AccessTokenEntry>,
    #[serde(rename = "RefreshToken", default)]
    pub(crate) refresh_tokens: BTreeMap<String, RefreshTokenEntry>,
    #[serde(rename = "IdToken", default)]
    pub(crate) id_tokens: BTreeMap<String, IdTokenEntry>,
    #[serde(rename = "Account", default)]
    pub(crate) accounts: BTreeMap<String, AccountEntry>,
    #[serde(rename = "AppMetadata", default)]
    pub(crate) app_metadata: BTreeMap<String, AppMetadataEntry>,
}

/// MSAL joins key parts with `-` and lowercases the result.
fn key(parts: &[&str]) -> String {
    parts.join("-").to_lowercase()
}

impl AccessTokenEntry {
    pub(crate) fn key(&self) -> String {
        let target = self.target.to_scope_string();
        key(&[&self.home_account_id, &self.environment, "accesstoken", &self.client_id, &self.realm, &target])
    }
}

impl RefreshTokenEntry {
    /// MSAL.NET's form: realm and target empty, one refresh token per user and client.
    pub(crate) fn key(&self) -> String {
        key(&[&self.home_account_id, &self.environment, "refreshtoken", &self.client_id, "", ""])
    }

    /// The scopes it covers, when recorded (`target`).
    pub(crate) fn covered_scopes(&self) -> Option<ScopeSet> {
        self.target.as_deref().and_then(|target| ScopeSet::parse(target).ok())
    }
}

impl IdTokenEntry {
    pub(crate) fn key(&self) -> String {
        key(&[&self.home_account_id, &self.environment, "idtoken", &self.client_id, &self.realm, ""])
    }
}

impl AccountEntry {
    pub(crate) fn key(&self) -> String {
        key(&[&self.home_account_id, &self.environment, &self.realm])
    }

    pub(crate) fn from_identity(identity: &AccountIdentity) -> Self {
        let home = identity.msal_home_account_id.as_deref().unwrap_or(identity.home_account_id.as_str());
        Self {
            home_account_id: home.to_owned(),
            environment: identity.environment.clone(),
            realm: identity.realm.clone(),
            local_account_id: identity.local_account_id.clone(),
            username: identity.username.clone(),
            authority_type: identity.authority_type,
            name: identity.name.clone(),
            client_info: identity.client_info.clone(),
            account_source: None,
            other: OtherFields::new(),
        }
    }
}

impl AppMetadataEntry {
    pub(crate) fn key(&self) -> String {
        format!("appmetadata-{}-{}", self.environment, self.client_id)
    }
}

impl CachePartition {
    /// The partition as MSAL JSON (secrets included: for persistence and export only).
    pub(crate) fn to_msal_json(&self) -> String {
        serde_json::to_string(self).expect("cache entries are plain JSON values")
    }

    /// Reads MSAL JSON; a malformed or foreign entry fails the whole partition, which callers treat as absent.
    /// Access tokens that cannot be bearer tokens (RFC 6750 §2.1: visible ASCII) are dropped: served, they
    /// could not go into an `Authorization` header; dropped, they are refreshed.
    pub(crate) fn from_msal_json(json: &str) -> Result<Self, serde_json::Error> {
        let mut partition: CachePartition = serde_json::from_str(json)?;
        partition
            .access_tokens
            .retain(|_, at| !at.secret.expose().is_empty() && at.secret.expose().bytes().all(|b| b.is_ascii_graphic()));
        Ok(partition)
    }

    /// Until when the partition is worth keeping: while its refresh token lives (when its expiry is known,
    /// else `default_lifetime` from `now`) or an access token is still valid, whichever is later.
    pub(crate) fn keep_until(&self, now: u64, default_lifetime: u64) -> u64 {
        let refresh = self.refresh_tokens.values().map(|rt| rt.expires_on.unwrap_or(now + default_lifetime)).max();
        let access = self.access_tokens.values().map(|at| at.expires_on).max();
        refresh.into_iter().chain(access).max().unwrap_or(now + default_lifetime)
    }

    /// Reads a whole MSAL cache as another library wrote it, entry by entry: what the runtime cannot use is
    /// skipped and said why (see [`SkipReason`]), never a reason to refuse the rest. `Err` only when the text
    /// is not a JSON object.
    pub(crate) fn from_msal_json_tolerant(json: &str) -> Result<(Self, Vec<SkippedEntry>), serde_json::Error> {
        let sections: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)?;
        let mut partition = CachePartition::default();
        let mut skipped = Vec::new();
        for (section, entries) in sections {
            let serde_json::Value::Object(entries) = entries else {
                skipped.push(SkippedEntry::new(&section, "", SkipReason::Malformed("not a JSON object".to_owned())));
                continue;
            };
            for (key, entry) in entries {
                let outcome = match section.as_str() {
                    "AccessToken" => typed(&entry).and_then(|at: AccessTokenEntry| {
                        usable_access_token(&at)?;
                        partition.access_tokens.insert(key.clone(), at);
                        Ok(())
                    }),
                    "RefreshToken" => typed(&entry).map(|rt| drop(partition.refresh_tokens.insert(key.clone(), rt))),
                    "IdToken" => typed(&entry).map(|id| drop(partition.id_tokens.insert(key.clone(), id))),
                    "Account" => typed(&entry).map(|account| drop(partition.accounts.insert(key.clone(), account))),
                    "AppMetadata" => typed(&entry).map(|meta| drop(partition.app_metadata.insert(key.clone(), meta))),
                    // MSAL libraries add sections (msal-node's `AccessToken_With_AuthScheme` of PoP tokens...):
                    // none is a bearer token for this runtime's user.
                    _ => Err(SkipReason::UnknownSection),
                };
                if let Err(reason) = outcome {
                    skipped.push(SkippedEntry::new(&section, &key, reason));
                }
            }
        }
        Ok((partition, skipped))
    }

    /// Splits a whole MSAL cache (many users) into one partition per user of this authority, keyed as the
    /// runtime keys them (`shape`), old-format entries of this runtime rewritten as MSAL writes them. Entries
    /// of no user (app-only tokens) or of another authority are skipped; app metadata goes to every partition.
    pub(crate) fn split_by_account(
        self,
        shape: &MsalShape,
        skipped: &mut Vec<SkippedEntry>,
    ) -> BTreeMap<HomeAccountId, CachePartition> {
        let mut by_account: BTreeMap<HomeAccountId, CachePartition> = BTreeMap::new();
        let mut place = |section: &str, key: &str, home: &str, environment: &str| {
            let home = if home.is_empty() { None } else { Some(home) };
            match shape.partition_key(home, environment) {
                Ok(partition_key) => Some(partition_key),
                Err(not_ours) => {
                    let reason = match not_ours {
                        NotOurs::AppOnly => SkipReason::AppOnly,
                        NotOurs::OtherAuthority(environment) => SkipReason::OtherAuthority { environment },
                    };
                    skipped.push(SkippedEntry::new(section, key, reason));
                    None
                }
            }
        };
        for (key, entry) in self.access_tokens {
            if let Some(owner) = place("AccessToken", &key, &entry.home_account_id, &entry.environment) {
                by_account.entry(owner).or_default().access_tokens.insert(key, entry);
            }
        }
        for (key, entry) in self.refresh_tokens {
            if let Some(owner) = place("RefreshToken", &key, &entry.home_account_id, &entry.environment) {
                by_account.entry(owner).or_default().refresh_tokens.insert(key, entry);
            }
        }
        for (key, entry) in self.id_tokens {
            if let Some(owner) = place("IdToken", &key, &entry.home_account_id, &entry.environment) {
                by_account.entry(owner).or_default().id_tokens.insert(key, entry);
            }
        }
        for (key, entry) in self.accounts {
            if let Some(owner) = place("Account", &key, &entry.home_account_id, &entry.environment) {
                by_account.entry(owner).or_default().accounts.insert(key, entry);
            }
        }
        for partition in by_account.values_mut() {
            partition.app_metadata = self.app_metadata.clone();
            partition.migrate(shape);
        }
        by_account
    }

    /// Rewrites entries this runtime wrote before its entries followed MSAL for generic issuers (home account id
    /// `sub.<issuer id>`, realm `<issuer id>`, environment with the port, authority type `Generic`) as MSAL
    /// writes them, under their new keys: whether anything changed. Other entries are left as they are.
    pub(crate) fn migrate(&mut self, shape: &MsalShape) -> bool {
        let mut changed = false;
        for at in self.access_tokens.values_mut() {
            changed |= shape.migrate(&mut at.home_account_id, &mut at.environment, Some(&mut at.realm));
        }
        for rt in self.refresh_tokens.values_mut() {
            changed |= shape.migrate(&mut rt.home_account_id, &mut rt.environment, None);
        }
        for id in self.id_tokens.values_mut() {
            changed |= shape.migrate(&mut id.home_account_id, &mut id.environment, Some(&mut id.realm));
        }
        for account in self.accounts.values_mut() {
            let migrated =
                shape.migrate(&mut account.home_account_id, &mut account.environment, Some(&mut account.realm));
            if migrated && account.authority_type == AuthorityType::Generic {
                account.authority_type = AuthorityType::MsSts;
            }
            changed |= migrated;
        }
        for metadata in self.app_metadata.values_mut() {
            let mut no_home = String::new();
            changed |= shape.migrate(&mut no_home, &mut metadata.environment, None);
        }
        if changed {
            self.access_tokens = std::mem::take(&mut self.access_tokens).into_values().map(|e| (e.key(), e)).collect();
            self.refresh_tokens =
                std::mem::take(&mut self.refresh_tokens).into_values().map(|e| (e.key(), e)).collect();
            self.id_tokens = std::mem::take(&mut self.id_tokens).into_values().map(|e| (e.key(), e)).collect();
            self.accounts = std::mem::take(&mut self.accounts).into_values().map(|e| (e.key(), e)).collect();
            self.app_metadata = std::mem::take(&mut self.app_metadata).into_values().map(|e| (e.key(), e)).collect();
        }
        changed
    }
}

/// An entry of an imported MSAL cache that the runtime did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedEntry {
    /// Its section: `AccessToken`, `RefreshToken`, `IdToken`, `Account`, `AppMetadata` or another one.
    pub section: String,
    /// Its key in that section (empty when the whole section was skipped).
    pub key: String,
    /// Why.
    pub reason: SkipReason,
}

impl SkippedEntry {
    fn new(section: &str, key: &str, reason: SkipReason) -> Self {
        Self { section: section.to_owned(), key: key.to_owned(), reason }
    }
}

/// Why an entry of an imported MSAL cache was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// An app-only token (client credentials: `home_account_id` null), of no user.
    #[error("an app-only token, of no user")]
    AppOnly,
    /// An entry of another authority than the configured one.
    #[error("an entry of another authority ({environment})")]
    OtherAuthority {
        /// Its `environment`.
        environment: String,
    },
    /// A section the runtime does not use (another credential type).
    #[error("a credential type this runtime does not use")]
    UnknownSection,
    /// An access token that is not a plain bearer token the runtime could send: bound to a key (PoP, SSH
    /// certificates: `key_id`), to an extended cache key (`ext_cache_key`), of another `token_type`, or not
    /// sendable in an `Authorization` header (RFC 6750 §2.1).
    #[error("not a bearer token this runtime could send")]
    NotBearer,
    /// Not of the schema's shape (a missing or mistyped field, a scope that is not a scope...).
    #[error("malformed: {0}")]
    Malformed(String),
}

fn typed<T: serde::de::DeserializeOwned>(entry: &serde_json::Value) -> Result<T, SkipReason> {
    // An app-only token is well-formed: it just belongs to no user (MSAL Python writes `null`, msal-node `""`).
    if entry.get("credential_type").is_some()
        && entry.get("home_account_id").is_some_and(|home| home.is_null() || home == "")
    {
        return Err(SkipReason::AppOnly);
    }
    T::deserialize(entry).map_err(|error| SkipReason::Malformed(error.to_string()))
}

/// Whether the runtime may serve this access token as a bearer token.
fn usable_access_token(at: &AccessTokenEntry) -> Result<(), SkipReason> {
    let secret = at.secret.expose();
    let bearer = at.token_type.as_deref().is_none_or(|kind| kind.eq_ignore_ascii_case("bearer"));
    let bound = at.other.contains_key("key_id") || at.other.contains_key("ext_cache_key");
    if at.credential_type != "AccessToken"
        || !bearer
        || bound
        || secret.is_empty()
        || !secret.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(SkipReason::NotBearer);
    }
    Ok(())
}

/// MSAL's `target`: the scopes, space-separated, in a stable order.
mod target {
    use crate::scope::set::ScopeSet;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(scopes: &ScopeSet, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&scopes.to_scope_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ScopeSet, D::Error> {
        let value = String::deserialize(deserializer)?;
        ScopeSet::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// Unix seconds as a string (the schema), accepting a number too (older writers).
mod unix {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum StringOrNumber {
        String(String),
        Number(u64),
    }

    impl StringOrNumber {
        pub(super) fn seconds<E: serde::de::Error>(self) -> Result<u64, E> {
            match self {
                StringOrNumber::Number(n) => Ok(n),
                StringOrNumber::String(s) => s.trim().parse().map_err(|_| E::custom("a Unix time")),
            }
        }
    }

    pub(super) fn serialize<S: Serializer>(seconds: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&seconds.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        StringOrNumber::deserialize(deserializer)?.seconds()
    }
}

mod unix_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(seconds: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match seconds {
            Some(seconds) => super::unix::serialize(seconds, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        Option::<super::unix::StringOrNumber>::deserialize(deserializer)?.map(|v| v.seconds()).transpose()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::provider::authority::Authority;

    fn entra() -> MsalShape {
        MsalShape::of(&Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap())
    }

    /// A cache as MSAL Python serializes it after an Entra sign-in (secrets shortened).
    pub(crate) const MSAL_PYTHON_CACHE: &str = r#"{
        "AccessToken": {
            "uid.utid-login.microsoftonline.com-accesstoken-client-utid-mail.read user.read": {
                "credential_type": "AccessToken", "secret": "at-secret", "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com", "client_id": "client", "target": "Mail.Read User.Read",
                "realm": "utid", "token_type": "Bearer", "cached_at": "1700000000", "expires_on": "1700003600",
                "extended_expires_on": "1700007200", "refresh_on": "1700001800"
            }
        },
        "Account": {
            "uid.utid-login.microsoftonline.com-utid": {
                "home_account_id": "uid.utid", "environment": "login.microsoftonline.com", "realm": "utid",
                "local_account_id": "uid", "username": "megan@contoso.example", "authority_type": "MSSTS",
                "account_source": "authorization_code"
            }
        },
        "IdToken": {
            "uid.utid-login.microsoftonline.com-idtoken-client-utid-": {
                "credential_type": "IdToken", "secret": "id-secret", "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com", "realm": "utid", "client_id": "client"
            }
        },
        "RefreshToken": {
            "uid.utid-login.microsoftonline.com-refreshtoken-client--mail.read user.read": {
                "credential_type": "RefreshToken", "secret": "rt-secret", "home_account_id": "uid.utid",
                "environment": "login.microsoftonline.com", "client_id": "client", "target": "Mail.Read User.Read",
                "last_modification_time": "1700000000"
            }
        },
        "AppMetadata": {
            "appmetadata-login.microsoftonline.com-client": {"client_id": "client", "environment": "login.microsoftonline.com"}
        }
    }"#;

    #[test]
    fn reads_msal_python_json_and_writes_it_back_unchanged() {
        let partition = CachePartition::from_msal_json(MSAL_PYTHON_CACHE).unwrap();
        let at = partition.access_tokens.values().next().unwrap();
        assert_eq!(at.secret.expose(), "at-secret");
        assert_eq!(at.expires_on, 1_700_003_600);
        assert_eq!(at.refresh_on, Some(1_700_001_800));
        assert_eq!(at.target, ScopeSet::parse("user.read mail.read").unwrap());
        assert_eq!(at.key(), partition.access_tokens.keys().next().unwrap().as_str());
        let account = partition.accounts.values().next().unwrap();
        assert_eq!(account.key(), "uid.utid-login.microsoftonline.com-utid");
        assert_eq!(
            partition.id_tokens.values().next().unwrap().key(),
            "uid.utid-login.microsoftonline.com-idtoken-client-utid-"
        );
        assert_eq!(
            partition.app_metadata.values().next().unwrap().key(),
            "appmetadata-login.microsoftonline.com-client"
        );

        let original: serde_json::Value = serde_json::from_str(MSAL_PYTHON_CACHE).unwrap();
        let written: serde_json::Value = serde_json::from_str(&partition.to_msal_json()).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn a_cache_of_several_users_splits_into_partitions() {
        let mut two_users: serde_json::Value = serde_json::from_str(MSAL_PYTHON_CACHE).unwrap();
        let mut other = two_users["AccessToken"].as_object().unwrap().values().next().unwrap().clone();
        other["home_account_id"] = "bob.utid".into();
        two_users["AccessToken"]["bob-key"] = other;
        let mut skipped = Vec::new();
        let partitions =
            CachePartition::from_msal_json(&two_users.to_string()).unwrap().split_by_account(&entra(), &mut skipped);
        assert!(skipped.is_empty());
        let (bob, uid) = (HomeAccountId::new("bob.utid"), HomeAccountId::new("uid.utid"));
        assert_eq!(partitions.keys().collect::<Vec<_>>(), [&bob, &uid]);
        assert_eq!(partitions[&bob].access_tokens.len(), 1);
        assert!(partitions[&bob].refresh_tokens.is_empty());
        assert_eq!(partitions[&uid].refresh_tokens.len(), 1);
        assert_eq!(partitions[&uid].app_metadata.len(), 1);
    }

    /// A cache as this runtime wrote it for the issuer `http://127.0.0.1:4000` before its entries followed MSAL
    /// for generic issuers: home account id `sub.<issuer id>`, realm `<issuer id>`, the port in the
    /// environment, authority type `Generic` (recorded; 52791ec32ba4e0ef is the issuer's id).
    const OLD_GENERIC_CACHE: &str = r#"{
        "AccessToken": {
            "alice.52791ec32ba4e0ef-127.0.0.1:4000-accesstoken-mail-app-52791ec32ba4e0ef-mail.read openid": {
                "credential_type": "AccessToken", "secret": "old-at", "home_account_id": "alice.52791ec32ba4e0ef",
                "environment": "127.0.0.1:4000", "client_id": "mail-app", "realm": "52791ec32ba4e0ef",
                "target": "Mail.Read openid", "cached_at": "1700000000", "expires_on": "4000000000",
                "extended_expires_on": "4000000000", "token_type": "Bearer"
            }
        },
        "RefreshToken": {
            "alice.52791ec32ba4e0ef-127.0.0.1:4000-refreshtoken-mail-app--": {
                "credential_type": "RefreshToken", "secret": "old-rt", "home_account_id": "alice.52791ec32ba4e0ef",
                "environment": "127.0.0.1:4000", "client_id": "mail-app", "target": "Mail.Read openid",
                "last_modification_time": "1700000000"
            }
        },
        "IdToken": {
            "alice.52791ec32ba4e0ef-127.0.0.1:4000-idtoken-mail-app-52791ec32ba4e0ef-": {
                "credential_type": "IdToken", "secret": "old-id", "home_account_id": "alice.52791ec32ba4e0ef",
                "environment": "127.0.0.1:4000", "realm": "52791ec32ba4e0ef", "client_id": "mail-app"
            }
        },
        "Account": {
            "alice.52791ec32ba4e0ef-127.0.0.1:4000-52791ec32ba4e0ef": {
                "home_account_id": "alice.52791ec32ba4e0ef", "environment": "127.0.0.1:4000",
                "realm": "52791ec32ba4e0ef", "local_account_id": "alice", "username": "alice@example.test",
                "authority_type": "Generic", "name": "Alice Example", "account_source": "authorization_code"
            }
        },
        "AppMetadata": {
            "appmetadata-127.0.0.1:4000-mail-app": {"client_id": "mail-app", "environment": "127.0.0.1:4000"}
        }
    }"#;

    #[test]
    fn an_old_cache_of_this_runtime_migrates_to_msal_fields_on_read() {
        let shape = MsalShape::of(&Authority::parse("http://127.0.0.1:4000").unwrap());
        let (whole, mut skipped) = CachePartition::from_msal_json_tolerant(OLD_GENERIC_CACHE).unwrap();
        let partitions = whole.split_by_account(&shape, &mut skipped);
        assert!(skipped.is_empty(), "{skipped:?}");
        // Same partition key as before: stored partitions and sessions keep finding it.
        let key = HomeAccountId::new("alice.52791ec32ba4e0ef");
        assert_eq!(partitions.keys().collect::<Vec<_>>(), [&key]);
        let written: serde_json::Value = serde_json::from_str(&partitions[&key].to_msal_json()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({
                "AccessToken": {"alice-127.0.0.1-accesstoken-mail-app--mail.read openid": {
                    "credential_type": "AccessToken", "secret": "old-at", "home_account_id": "alice",
                    "environment": "127.0.0.1", "client_id": "mail-app", "realm": "", "target": "Mail.Read openid",
                    "cached_at": "1700000000", "expires_on": "4000000000", "extended_expires_on": "4000000000",
                    "token_type": "Bearer"}},
                "RefreshToken": {"alice-127.0.0.1-refreshtoken-mail-app--": {
                    "credential_type": "RefreshToken", "secret": "old-rt", "home_account_id": "alice",
                    "environment": "127.0.0.1", "client_id": "mail-app", "target": "Mail.Read openid",
                    "last_modification_time": "1700000000"}},
                "IdToken": {"alice-127.0.0.1-idtoken-mail-app--": {
                    "credential_type": "IdToken", "secret": "old-id", "home_account_id": "alice",
                    "environment": "127.0.0.1", "realm": "", "client_id": "mail-app"}},
                "Account": {"alice-127.0.0.1-": {
                    "home_account_id": "alice", "environment": "127.0.0.1", "realm": "", "local_account_id": "alice",
                    "username": "alice@example.test", "authority_type": "MSSTS", "name": "Alice Example",
                    "account_source": "authorization_code"}},
                "AppMetadata": {"appmetadata-127.0.0.1-mail-app": {"client_id": "mail-app", "environment": "127.0.0.1"}}
            })
        );
        // Another issuer's runtime takes none of it.
        let elsewhere = MsalShape::of(&Authority::parse("http://127.0.0.1:4000/other").unwrap());
        let (whole, mut skipped) = CachePartition::from_msal_json_tolerant(OLD_GENERIC_CACHE).unwrap();
        let taken = whole.split_by_account(&elsewhere, &mut skipped);
        assert!(taken.keys().all(|key| key.as_str() != "alice.52791ec32ba4e0ef"), "{taken:?}");
    }

    #[test]
    fn app_only_tokens_and_entries_the_runtime_does_not_use_are_skipped_and_the_rest_imported() {
        let mut cache: serde_json::Value = serde_json::from_str(MSAL_PYTHON_CACHE).unwrap();
        // As MSAL Python writes an app-only token (`acquire_token_for_client`).
        cache["AccessToken"]["-login.microsoftonline.com-accesstoken-client-utid-https://graph.microsoft.com/.default"] = serde_json::json!({
            "credential_type": "AccessToken", "secret": "app-only", "home_account_id": null,
            "environment": "login.microsoftonline.com", "client_id": "client",
            "target": "https://graph.microsoft.com/.default", "realm": "utid", "token_type": "Bearer",
            "cached_at": "1700000000", "expires_on": "1700003600", "extended_expires_on": "1700003600"
        });
        let mut pop =
            cache["AccessToken"]["uid.utid-login.microsoftonline.com-accesstoken-client-utid-mail.read user.read"]
                .clone();
        pop["key_id"] = "pop-key".into();
        pop["token_type"] = "pop".into();
        cache["AccessToken"]["pop"] = pop;
        cache["AccessToken"]["broken"] = serde_json::json!({"credential_type": "AccessToken", "secret": 5});
        cache["AccessToken_With_AuthScheme"] = serde_json::json!({"ssh": {"secret": "x"}});
        cache["IdToken"]["elsewhere"] = serde_json::json!({
            "credential_type": "IdToken", "secret": "id", "home_account_id": "uid.utid",
            "environment": "login.microsoftonline.us", "realm": "utid", "client_id": "client"
        });
        let (whole, mut skipped) = CachePartition::from_msal_json_tolerant(&cache.to_string()).unwrap();
        let partitions = whole.split_by_account(&entra(), &mut skipped);
        let user = &partitions[&HomeAccountId::new("uid.utid")];
        assert_eq!(user.access_tokens.len(), 1);
        assert_eq!(user.access_tokens.values().next().unwrap().secret.expose(), "at-secret");
        assert_eq!((user.refresh_tokens.len(), user.id_tokens.len(), user.accounts.len()), (1, 1, 1));
        let mut reasons: Vec<_> = skipped.iter().map(|s| (s.section.as_str(), s.key.as_str(), &s.reason)).collect();
        reasons.sort_by_key(|(section, key, _)| (*section, *key));
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert_eq!(reasons[0].0, "AccessToken");
        assert_eq!(reasons[0].2, &SkipReason::AppOnly);
        assert!(matches!(reasons[1], ("AccessToken", "broken", SkipReason::Malformed(_))));
        assert_eq!(reasons[2], ("AccessToken", "pop", &SkipReason::NotBearer));
        assert_eq!(reasons[3], ("AccessToken_With_AuthScheme", "ssh", &SkipReason::UnknownSection));
        assert_eq!(
            reasons[4],
            ("IdToken", "elsewhere", &SkipReason::OtherAuthority { environment: "login.microsoftonline.us".into() })
        );
        assert!(CachePartition::from_msal_json_tolerant("[]").is_err(), "not MSAL JSON at all");
    }

    #[test]
    fn keeps_unknown_fields_and_accepts_numeric_times() {
        let json = r#"{"AccessToken": {"k": {
            "credential_type": "AccessToken", "secret": "s", "home_account_id": "h", "environment": "e",
            "client_id": "c", "target": "a", "realm": "r", "cached_at": 1, "expires_on": 2,
            "extended_expires_on": 3, "key_id": "pop-key"
        }}}"#;
        let partition = CachePartition::from_msal_json(json).unwrap();
        let at = &partition.access_tokens["k"];
        assert_eq!((at.cached_at, at.expires_on), (1, 2));
        assert_eq!(at.other["key_id"], "pop-key");
        assert!(partition.to_msal_json().contains(r#""key_id":"pop-key""#));
        assert!(partition.to_msal_json().contains(r#""expires_on":"2""#));
    }

    #[test]
    fn drops_access_tokens_that_could_not_be_sent() {
        let json = MSAL_PYTHON_CACHE.replace("\"at-secret\"", "\"at\\r\\nSet-Cookie: x\"");
        let partition = CachePartition::from_msal_json(&json).unwrap();
        assert!(partition.access_tokens.is_empty());
        assert_eq!(partition.refresh_tokens.len(), 1, "the rest of the partition stays");
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            r#"{"AccessToken": {"k": {"secret": "s"}}}"#,
            r#"{"AccessToken": {"k": {"credential_type": "AccessToken", "secret": "s", "home_account_id": "h",
                "environment": "e", "client_id": "c", "target": "bad\"scope", "realm": "r", "cached_at": "1",
                "expires_on": "2", "extended_expires_on": "3"}}}"#,
            r#"{"AccessToken": {"k": {"credential_type": "AccessToken", "secret": "s", "home_account_id": "h",
                "environment": "e", "client_id": "c", "target": "a", "realm": "r", "cached_at": "soon",
                "expires_on": "2", "extended_expires_on": "3"}}}"#,
            "",
            "null",
        ] {
            assert!(CachePartition::from_msal_json(bad).is_err(), "{bad}");
        }
    }
}
