//! [`PackedPartition`]: one user's partition as the memory store keeps it.

use crate::cache::hot::{HotLookup, HotToken, ScopeIds};
use crate::cache::packed::cold;
use crate::cache::schema::{AccessTokenEntry, CachePartition};
use crate::secret::Secret;

/// An access token as a cache hit reads it.
struct HotAccessToken {
    secret: Secret,
    expires_on: u64,
    refresh_on: Option<u64>,
    /// The target without reserved scopes, as ids; `None` for other clients' tokens, and for targets with too
    /// many scopes (the full rules then decide).
    scopes: Option<ScopeIds>,
    /// A token of the client the partition was packed for.
    ours: bool,
}

impl HotAccessToken {
    fn of(entry: &AccessTokenEntry, client_id: &str) -> Self {
        let ours = entry.client_id == client_id;
        Self {
            secret: entry.secret.clone(),
            expires_on: entry.expires_on,
            refresh_on: entry.refresh_on,
            scopes: ours.then(|| ScopeIds::of_token(&entry.target.without_reserved())).flatten(),
            ours,
        }
    }
}

/// One user's partition in two allocations besides its access tokens' secrets: the access tokens as a cache
/// hit reads them, and one buffer holding the store's key followed by everything else (see `cold`).
///
/// Packed for one client, whose access tokens carry their scopes as ids, so that a cache hit reads the key,
/// these tokens and the secret's reference count, and nothing else.
pub(crate) struct PackedPartition {
    access_tokens: Box<[HotAccessToken]>,
    /// The key's bytes, then the cold part.
    bytes: Box<[u8]>,
    key_len: u32,
}

impl std::fmt::Debug for PackedPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedPartition").field("access_tokens", &self.access_tokens.len()).finish_non_exhaustive()
    }
}

impl PackedPartition {
    /// Packs `partition`, stored under `key`, for `client_id`'s cache hits; `None` if it cannot be encoded
    /// (a key of 4 GiB: only a forged import could get there).
    pub(crate) fn pack(key: &str, partition: &CachePartition, client_id: &str) -> Option<Self> {
        let key_len = u32::try_from(key.len()).ok()?;
        let bytes = cold::write(key, partition, key.as_bytes().to_vec()).ok()?;
        Some(Self {
            access_tokens: partition.access_tokens.values().map(|entry| HotAccessToken::of(entry, client_id)).collect(),
            bytes: bytes.into_boxed_slice(),
            key_len,
        })
    }

    /// Whether the partition is stored under `key`.
    pub(crate) fn has_key(&self, key: &str) -> bool {
        self.bytes.get(..self.key_len as usize) == Some(key.as_bytes())
    }

    /// The partition in MSAL's schema again, entry for entry and key for key; `None` if the buffer was
    /// corrupted (callers treat the partition as absent).
    pub(crate) fn unpack(&self) -> Option<CachePartition> {
        let (key, cold) = self.bytes.split_at_checked(self.key_len as usize)?;
        let hot = self.access_tokens.iter().map(|at| (at.secret.clone(), at.expires_on, at.refresh_on));
        cold::read(std::str::from_utf8(key).ok()?, cold, hot)
    }

    /// The token of the packing client serving `request` (ids of the request without reserved scopes) valid
    /// beyond `now + min_remaining`, exactly as `CachePartition::find_access_token` would pick it (the first
    /// serving token in key order); `Unknown` when a token without ids comes first and may serve.
    pub(crate) fn find(&self, request: Option<&ScopeIds>, now: u64, min_remaining: u64) -> HotLookup {
        for token in self.access_tokens.iter().filter(|token| token.ours) {
            if token.expires_on <= now.saturating_add(min_remaining) {
                continue;
            }
            let Some(scopes) = &token.scopes else {
                // It may serve: only the full rules can tell, and they would pick it before any later token.
                return HotLookup::Unknown;
            };
            // A request scope never issued to anyone has no id: no token with ids holds it.
            if let Some(request) = request
                && scopes.covers(request)
            {
                return HotLookup::Hit(HotToken {
                    secret: token.secret.clone(),
                    expires_on: token.expires_on,
                    refresh_on: token.refresh_on,
                });
            }
        }
        HotLookup::Miss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::partition::GrantType;
    use crate::cache::partition::tests::{issue, response};
    use crate::cache::schema::tests::MSAL_PYTHON_CACHE;
    use crate::scope::set::ScopeSet;

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    fn partition(tokens: &[(&str, &str, u64)]) -> CachePartition {
        let mut partition = CachePartition::default();
        for (secret, scope, expires_in) in tokens {
            issue(&mut partition, &response(secret, Some(scope), *expires_in), scope, GrantType::RefreshToken, 1000);
        }
        partition
    }

    fn round_trip(partition: &CachePartition) -> CachePartition {
        PackedPartition::pack("alice.tenant", partition, "client").unwrap().unpack().unwrap()
    }

    #[test]
    fn unpacks_to_the_same_msal_json() {
        let written = partition(&[("read", "openid Mail.Read", 3600), ("orders", "api.Orders.Read", 7200)]);
        assert_eq!(round_trip(&written).to_msal_json(), written.to_msal_json());
        let imported = CachePartition::from_msal_json(MSAL_PYTHON_CACHE).unwrap();
        assert_eq!(round_trip(&imported).to_msal_json(), imported.to_msal_json());
    }

    #[test]
    fn keeps_foreign_keys_fields_and_values_of_any_length() {
        let long = "x".repeat(10_000);
        let json = serde_json::json!({
            "AccessToken": { "not-an-msal-key": {
                "credential_type": "AccessToken", "secret": "at", "home_account_id": "h", "environment": "e",
                "client_id": "client", "realm": "r", "target": long.clone(), "cached_at": "1", "expires_on": "2",
                "extended_expires_on": "3", "x_ms_field": {"nested": [1, 2]}
            }},
            "RefreshToken": { "rt": {
                "credential_type": "RefreshToken", "secret": "rt", "home_account_id": "h", "environment": "e",
                "client_id": "client", "family_id": "1", "expires_on": "99", "other": long.clone()
            }},
            "Account": { "h-e-r": {
                "home_account_id": "h", "environment": "e", "realm": "r", "local_account_id": "",
                "username": "é€😀", "authority_type": "MSSTS", "client_info": long
            }},
            "AppMetadata": { "appmetadata-e-client": { "client_id": "client", "environment": "e", "family_id": "1" }}
        });
        let partition = CachePartition::from_msal_json(&json.to_string()).unwrap();
        assert_eq!(round_trip(&partition).to_msal_json(), partition.to_msal_json());
    }

    /// The packed lookup agrees with the full rules on `request` at `now`.
    fn agrees(partition: &CachePartition, request: &str, now: u64) {
        let request = scopes(request);
        let full = partition.find_access_token("client", &request, now, 300).map(|at| at.secret.expose().to_owned());
        let packed = PackedPartition::pack("alice.tenant", partition, "client").unwrap();
        match packed.find(ScopeIds::of_request(&request).as_ref(), now, 300) {
            HotLookup::Hit(token) => assert_eq!(Some(token.secret.expose().to_owned()), full, "{request:?}"),
            HotLookup::Miss => assert_eq!(full, None, "{request:?}"),
            HotLookup::Unknown => panic!("tokens with few scopes all have ids"),
        }
    }

    #[test]
    fn a_lookup_answers_exactly_like_the_full_rules() {
        let partition = partition(&[
            ("read", "openid Mail.Read", 3600),
            ("orders", "api.Orders.Read api.Orders.Write", 7200),
            ("calendar", "Calendars.Read", 600),
            ("files", "Files.Read", 9000),
        ]);
        for request in [
            "Mail.Read",
            "mail.read",
            "api.Orders.Read",
            "API.ORDERS.WRITE api.orders.read",
            "Files.Read",
            "Calendars.Read",
            "Mail.Send",
            "Mail.Read api.Orders.Read",
            "Never.Issued.Anywhere",
            "",
        ] {
            for now in [1000, 1000 + 600 - 301, 1000 + 600 - 300, 1000 + 3600 - 301, 1000 + 3600 - 300, 1000 + 7200] {
                agrees(&partition, request, now);
            }
        }
    }

    #[test]
    fn leaves_wide_tokens_to_the_full_rules_and_other_clients_tokens_alone() {
        let many_scopes = (0..16).map(|i| format!("s{i}.Read")).collect::<Vec<_>>().join(" ");
        let wide = partition(&[("wide", &many_scopes, 3600)]);
        let packed = PackedPartition::pack("alice.tenant", &wide, "client").unwrap();
        let request = ScopeIds::of_request(&scopes("s1.Read"));
        assert!(matches!(packed.find(request.as_ref(), 1000, 300), HotLookup::Unknown));
        assert!(matches!(packed.find(request.as_ref(), 1000 + 3600, 300), HotLookup::Miss), "expired: no doubt");
        let other = PackedPartition::pack("alice.tenant", &wide, "other-client").unwrap();
        assert!(matches!(other.find(request.as_ref(), 1000, 300), HotLookup::Miss));
    }
}
