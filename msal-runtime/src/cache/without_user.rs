//! Tokens of no signed-in user of the app: its own (client credentials) and those it bought on behalf of a web
//! API's callers. They live in the same store as users' partitions (so a shared store shares them across
//! instances), each under a partition key no user's home account id can be, in MSAL's schema as msal-python and
//! msal-node write them: an app token's `home_account_id` is empty and its `realm` the tenant; a token bought
//! on behalf of a caller names the caller and carries MSAL's `user_assertion_hash`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::cache::partition::access_token_lifetime;
use crate::cache::schema::{AccessTokenEntry, CachePartition};
use crate::provider::account::HomeAccountId;
use crate::provider::token_endpoint::TokenResponse;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// The partition of the app's own tokens. A user's home account id always has a `.` (`uid.utid` on Entra,
/// `sub.<issuer id>` elsewhere: `provider/account.rs`), so no user can have this key, nor any other key here.
const APP_PARTITION: &str = "app-tokens";

/// The prefix of on-behalf-of partitions; what follows is base64url, which has no `.`.
const ON_BEHALF_OF_PREFIX: &str = "obo-";

/// Where the app's own tokens are kept.
pub(crate) fn app_partition() -> HomeAccountId {
    HomeAccountId::new(APP_PARTITION)
}

/// MSAL's `user_assertion_hash`: the base64url SHA-256 of the caller's token, which names the token without
/// keeping it.
pub(crate) fn user_assertion_hash(assertion: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(assertion.expose().as_bytes()))
}

/// Where tokens bought on behalf of one caller presenting one token are kept: a hash of who the caller is and
/// of the token's hash, never the token itself. A new token of the same caller (after the old one expired, or
/// with other claims) gets a partition of its own, so a token bought with one assertion never serves another.
pub(crate) fn on_behalf_of_partition(caller: &str, assertion_hash: &str) -> HomeAccountId {
    let digest =
        Sha256::new().chain_update(caller.as_bytes()).chain_update([0]).chain_update(assertion_hash).finalize();
    HomeAccountId::new(format!("{ON_BEHALF_OF_PREFIX}{}", URL_SAFE_NO_PAD.encode(digest)))
}

/// Whose token it is and where it was issued, for its cache entry.
#[derive(Debug, Clone)]
pub(crate) struct Holder {
    /// Empty for the app's own tokens (as MSAL writes them); the caller's home account id for on-behalf-of.
    pub(crate) home_account_id: String,
    /// MSAL `environment`: the authority's host.
    pub(crate) environment: String,
    /// MSAL `realm`: the tenant (Entra) or the issuer's id.
    pub(crate) realm: String,
    /// On-behalf-of: MSAL's `user_assertion_hash`.
    pub(crate) user_assertion_hash: Option<String>,
}

/// Tokens living two hours or more are refreshed at half-life without `refresh_in`, as users' are
/// (`cache/partition.rs`).
const PROACTIVE_REFRESH_MIN_LIFETIME_SECS: u64 = 2 * 3600;

impl CachePartition {
    /// Writes an access token of no user: `target` is the request's scopes (as msal-python and msal-node write
    /// app tokens: Entra's client credentials answer names no scope, and a `.default` scope is never granted by
    /// that name), so the same request finds it. Replaces the client's cached tokens whose scopes overlap, and
    /// drops expired ones. Returns the entry.
    pub(crate) fn record_without_user(
        &mut self,
        holder: &Holder,
        client_id: &str,
        requested: &ScopeSet,
        response: &TokenResponse,
        now: u64,
    ) -> AccessTokenEntry {
        let expires_in = access_token_lifetime(response);
        let refresh_on = response.refresh_in.map(|refresh_in| now.saturating_add(refresh_in)).or_else(|| {
            (expires_in >= PROACTIVE_REFRESH_MIN_LIFETIME_SECS).then_some(now.saturating_add(expires_in / 2))
        });
        let mut other = serde_json::Map::new();
        if let Some(hash) = &holder.user_assertion_hash {
            other.insert("user_assertion_hash".to_owned(), serde_json::Value::String(hash.clone()));
        }
        let entry = AccessTokenEntry {
            home_account_id: holder.home_account_id.clone(),
            environment: holder.environment.clone(),
            client_id: client_id.to_owned(),
            realm: holder.realm.clone(),
            credential_type: "AccessToken".to_owned(),
            secret: response.access_token.clone(),
            target: requested.clone(),
            cached_at: now,
            expires_on: now.saturating_add(expires_in),
            extended_expires_on: now.saturating_add(response.ext_expires_in.unwrap_or(expires_in).max(expires_in)),
            refresh_on,
            token_type: Some(response.token_type.clone().unwrap_or_else(|| "Bearer".to_owned())),
            other,
        };
        self.access_tokens.retain(|_, old| {
            let replaced = old.client_id == client_id && old.target.intersects(requested);
            !replaced && old.expires_on > now
        });
        self.access_tokens.insert(entry.key(), entry.clone());
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::partition::EXPIRY_BUFFER_SECS;

    const NOW: u64 = 1_800_000_000;

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    fn response(token: &str, expires_in: u64) -> TokenResponse {
        serde_json::from_value(serde_json::json!({
            "token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token
        }))
        .unwrap()
    }

    fn app() -> Holder {
        Holder {
            home_account_id: String::new(),
            environment: "login.microsoftonline.com".into(),
            realm: "9188040d-6c67-4c5b-b112-36a304b66dad".into(),
            user_assertion_hash: None,
        }
    }

    #[test]
    fn no_user_has_these_partition_keys() {
        // Users' keys always have a dot (provider/account.rs); these never do, and never hold the token.
        let assertion = Secret::new("eyJ.caller.sig");
        let hash = user_assertion_hash(&assertion);
        let obo = on_behalf_of_partition("alice.tenant", &hash);
        for key in [app_partition(), obo.clone()] {
            assert!(!key.as_str().contains('.'), "{key}");
            assert!(!key.as_str().contains("caller"), "{key}");
        }
        assert_ne!(obo, on_behalf_of_partition("bob.tenant", &hash), "another caller");
        assert_ne!(obo, on_behalf_of_partition("alice.tenant", &user_assertion_hash(&Secret::new("other"))));
        // MSAL's user_assertion_hash: base64url SHA-256 without padding.
        assert_eq!(user_assertion_hash(&Secret::new("abc")), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    }

    #[test]
    fn app_tokens_are_written_as_msal_python_writes_them() {
        let mut partition = CachePartition::default();
        let request = scopes("api://mail-api/.default");
        partition.record_without_user(&app(), "daemon", &request, &response("at-1", 3599), NOW);
        let json: serde_json::Value = serde_json::from_str(&partition.to_msal_json()).unwrap();
        let (key, entry) = json["AccessToken"].as_object().unwrap().iter().next().unwrap();
        assert_eq!(
            key,
            "-login.microsoftonline.com-accesstoken-daemon-9188040d-6c67-4c5b-b112-36a304b66dad-api://mail-api/.default"
        );
        assert_eq!(entry["home_account_id"], "");
        assert_eq!(entry["target"], "api://mail-api/.default");
        assert_eq!(entry["expires_on"], (NOW + 3599).to_string());
        assert!(entry.get("user_assertion_hash").is_none());
        let found = partition.find_access_token("daemon", &request, NOW, EXPIRY_BUFFER_SECS).unwrap();
        assert_eq!(found.secret.expose(), "at-1");
        // Read back by MSAL's rules: the same partition, unchanged.
        let again = CachePartition::from_msal_json(&partition.to_msal_json()).unwrap();
        assert_eq!(again.to_msal_json(), partition.to_msal_json());
    }

    #[test]
    fn a_new_token_replaces_the_one_for_the_same_scopes_only() {
        let mut partition = CachePartition::default();
        let (mail, orders) = (scopes("api://mail-api/.default"), scopes("api://orders-api/.default"));
        partition.record_without_user(&app(), "daemon", &mail, &response("mail-1", 3600), NOW);
        partition.record_without_user(&app(), "daemon", &orders, &response("orders-1", 3600), NOW);
        partition.record_without_user(&app(), "daemon", &mail, &response("mail-2", 3600), NOW + 10);
        let mut secrets: Vec<_> = partition.access_tokens.values().map(|at| at.secret.expose().to_owned()).collect();
        secrets.sort();
        assert_eq!(secrets, ["mail-2", "orders-1"]);
    }

    #[test]
    fn on_behalf_of_tokens_name_the_caller_and_the_assertion_hash() {
        let mut partition = CachePartition::default();
        let holder =
            Holder { home_account_id: "alice.b0a1".into(), user_assertion_hash: Some("ungWv48Bz".into()), ..app() };
        let long = response("obo", 4 * 3600);
        let entry = partition.record_without_user(&holder, "mail-api", &scopes("Contacts.Read"), &long, NOW);
        assert_eq!(entry.refresh_on, Some(NOW + 2 * 3600), "refreshed at half-life, as users' tokens");
        let json: serde_json::Value = serde_json::from_str(&partition.to_msal_json()).unwrap();
        let entry = json["AccessToken"].as_object().unwrap().values().next().unwrap();
        assert_eq!(
            (&entry["home_account_id"], &entry["user_assertion_hash"]),
            (&"alice.b0a1".into(), &"ungWv48Bz".into())
        );
    }
}
