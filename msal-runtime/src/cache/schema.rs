//! MSAL's shared token-cache schema: the entities, their field names, their key formats and their JSON.
//!
//! One partition holds one user's entries in exactly the JSON MSAL libraries serialize
//! (`{"AccessToken": {key: entry}, "RefreshToken": …, "IdToken": …, "Account": …, "AppMetadata": …}`), so a
//! partition exported from here is read by MSAL Python's `SerializableTokenCache` and vice versa. Times are
//! Unix seconds written as strings, as the schema defines them. Fields this crate does not know are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::account::{AccountIdentity, AuthorityType};
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
        Self {
            home_account_id: identity.home_account_id.as_str().to_owned(),
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

    /// Splits a whole MSAL cache (many users) into one partition per home account id. Entries of no user
    /// (app-only tokens) are dropped; app metadata goes to every partition.
    pub(crate) fn split_by_account(self) -> BTreeMap<String, CachePartition> {
        let mut by_account: BTreeMap<String, CachePartition> = BTreeMap::new();
        for (key, entry) in self.access_tokens {
            by_account.entry(entry.home_account_id.clone()).or_default().access_tokens.insert(key, entry);
        }
        for (key, entry) in self.refresh_tokens {
            by_account.entry(entry.home_account_id.clone()).or_default().refresh_tokens.insert(key, entry);
        }
        for (key, entry) in self.id_tokens {
            by_account.entry(entry.home_account_id.clone()).or_default().id_tokens.insert(key, entry);
        }
        for (key, entry) in self.accounts {
            by_account.entry(entry.home_account_id.clone()).or_default().accounts.insert(key, entry);
        }
        by_account.remove("");
        for partition in by_account.values_mut() {
            partition.app_metadata = self.app_metadata.clone();
        }
        by_account
    }
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
        let partitions = CachePartition::from_msal_json(&two_users.to_string()).unwrap().split_by_account();
        assert_eq!(partitions.keys().collect::<Vec<_>>(), ["bob.utid", "uid.utid"]);
        assert_eq!(partitions["bob.utid"].access_tokens.len(), 1);
        assert!(partitions["bob.utid"].refresh_tokens.is_empty());
        assert_eq!(partitions["uid.utid"].refresh_tokens.len(), 1);
        assert_eq!(partitions["uid.utid"].app_metadata.len(), 1);
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
