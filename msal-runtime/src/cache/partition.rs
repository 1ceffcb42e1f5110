//! MSAL's rules for one user's partition: what a token response writes, and which cached token serves a request.

use crate::cache::schema::{
    AccessTokenEntry, AccountEntry, AppMetadataEntry, CachePartition, IdTokenEntry, RefreshTokenEntry,
};
use crate::provider::token_endpoint::TokenResponse;
use crate::scope::set::ScopeSet;

/// A cached access token serves only while it stays valid for more than this (MSAL's 5-minute buffer):
/// a token that expires on its way to the API is a failed call.
pub(crate) const EXPIRY_BUFFER_SECS: u64 = 300;

/// `expires_in` is only RECOMMENDED (RFC 6749 §5.1); without it assume what MSAL assumes.
const DEFAULT_EXPIRES_IN_SECS: u64 = 600;

/// Tokens living two hours or more are refreshed at half-life when the provider sends no `refresh_in`
/// (MSAL.NET's proactive refresh), so that a provider outage near expiry does not break the user.
const PROACTIVE_REFRESH_MIN_LIFETIME_SECS: u64 = 2 * 3600;

/// How a token response was obtained (MSAL's `account_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

/// Everything needed to record a token response besides the response itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Issued<'a> {
    /// The account the tokens belong to (from the sign-in's ID token, or as cached for a refresh).
    pub(crate) account: &'a AccountEntry,
    pub(crate) client_id: &'a str,
    pub(crate) requested: &'a ScopeSet,
    pub(crate) grant_type: GrantType,
    pub(crate) now: u64,
}

impl CachePartition {
    /// Writes a token response: the access token (replacing cached ones whose scopes overlap it), a rotated
    /// refresh token (replacing the old one in the same write), the ID token, the account and app metadata.
    pub(crate) fn record(&mut self, issued: &Issued<'_>, response: &TokenResponse) {
        let identity = issued.account;
        let home = identity.home_account_id.as_str();
        let now = issued.now;
        let granted = response.granted_scopes(issued.requested);
        let granted_scopes = granted.clone();
        let expires_in = access_token_lifetime(response);
        // The provider's lifetimes are any u64 it cares to send: the times saturate rather than overflow.
        let refresh_on = response.refresh_in.map(|refresh_in| now.saturating_add(refresh_in)).or_else(|| {
            (expires_in >= PROACTIVE_REFRESH_MIN_LIFETIME_SECS).then_some(now.saturating_add(expires_in / 2))
        });
        let access_token = AccessTokenEntry {
            home_account_id: home.to_owned(),
            environment: identity.environment.clone(),
            client_id: issued.client_id.to_owned(),
            realm: identity.realm.clone(),
            credential_type: "AccessToken".to_owned(),
            secret: response.access_token.clone(),
            target: granted,
            cached_at: now,
            expires_on: now.saturating_add(expires_in),
            extended_expires_on: now.saturating_add(response.ext_expires_in.unwrap_or(expires_in).max(expires_in)),
            refresh_on,
            token_type: Some(response.token_type.clone().unwrap_or_else(|| "Bearer".to_owned())),
            other: Default::default(),
        };
        self.access_tokens.retain(|_, old| {
            let same_slot = old.client_id == access_token.client_id && old.realm == access_token.realm;
            let replaced = same_slot && scopes_overlap(&old.target, &access_token.target);
            !replaced && old.expires_on > now
        });
        self.access_tokens.insert(access_token.key(), access_token);

        if let Some(secret) = &response.refresh_token {
            // What the refresh token covers (MSAL's optional `target`): a rotated one covers what the one it
            // replaces did (providers keep the original grant's scopes on rotation), a new one what was granted.
            let mut covered = granted_scopes.clone();
            if issued.grant_type == GrantType::RefreshToken
                && let Some(previous) = self.refresh_token(issued.client_id).and_then(RefreshTokenEntry::covered_scopes)
            {
                covered = covered.union(&previous);
            }
            // One refresh token per user and client; entries written under other key formats go too.
            self.refresh_tokens.retain(|_, old| old.client_id != issued.client_id);
            let entry = RefreshTokenEntry {
                home_account_id: home.to_owned(),
                environment: identity.environment.clone(),
                client_id: issued.client_id.to_owned(),
                credential_type: "RefreshToken".to_owned(),
                secret: secret.clone(),
                target: Some(covered.to_scope_string()),
                last_modification_time: Some(now),
                family_id: response.foci.clone(),
                expires_on: response.refresh_token_expires_in.map(|lifetime| now.saturating_add(lifetime)),
                other: Default::default(),
            };
            self.refresh_tokens.insert(entry.key(), entry);
        }

        if let Some(secret) = &response.id_token {
            self.id_tokens.retain(|_, old| old.client_id != issued.client_id || old.realm != identity.realm);
            let entry = IdTokenEntry {
                home_account_id: home.to_owned(),
                environment: identity.environment.clone(),
                realm: identity.realm.clone(),
                client_id: issued.client_id.to_owned(),
                credential_type: "IdToken".to_owned(),
                secret: secret.clone(),
                other: Default::default(),
            };
            self.id_tokens.insert(entry.key(), entry);
        }

        let mut account = identity.clone();
        if issued.grant_type == GrantType::AuthorizationCode {
            account.account_source = Some("authorization_code".to_owned());
        }
        self.accounts.insert(account.key(), account);

        let metadata = AppMetadataEntry {
            client_id: issued.client_id.to_owned(),
            environment: identity.environment.clone(),
            family_id: response.foci.clone(),
            other: Default::default(),
        };
        self.app_metadata.insert(metadata.key(), metadata);
    }

    /// Merges entries imported from another MSAL library's cache. Entries replace those with the same keys,
    /// and two rules keep what MSAL libraries leave behind from being served:
    ///
    /// - One refresh token per client. MSAL libraries key refresh tokens differently (MSAL Python adds the
    ///   `target`, msal-node an empty scheme), so a library that refreshed with ours wrote its rotated one
    ///   beside ours instead of over it, and ours is spent: reusing it would make a rotating provider revoke
    ///   the grant. An imported refresh token the partition did not hold wins over one it held; among several,
    ///   the latest `last_modification_time`, one without it (msal-node writes none) counting as the latest.
    /// - An imported access token replaces held ones of the same client and realm whose scopes overlap it
    ///   (as a new token does in [`record`](Self::record)) when it is at least as recent (`cached_at`).
    pub(crate) fn merge_imported(&mut self, imported: &CachePartition) {
        for (key, at) in &imported.access_tokens {
            self.access_tokens.retain(|held_key, held| {
                held_key == key
                    || held.client_id != at.client_id
                    || held.realm != at.realm
                    || held.cached_at > at.cached_at
                    || !scopes_overlap(&held.target, &at.target)
            });
            self.access_tokens.insert(key.clone(), at.clone());
        }
        let clients: std::collections::BTreeSet<&str> =
            imported.refresh_tokens.values().map(|rt| rt.client_id.as_str()).collect();
        for client in clients {
            let held: std::collections::HashSet<&str> =
                self.refresh_tokens.values().filter(|rt| rt.client_id == client).map(|rt| rt.secret.expose()).collect();
            let candidates = imported.refresh_tokens.iter().filter(|(_, rt)| rt.client_id == client);
            let newest = |a: &(&String, &RefreshTokenEntry)| a.1.last_modification_time.unwrap_or(u64::MAX);
            let chosen = candidates
                .clone()
                .filter(|(_, rt)| !held.contains(rt.secret.expose()))
                .max_by_key(newest)
                .or_else(|| candidates.max_by_key(newest))
                .map(|(key, rt)| (key.clone(), rt.clone()));
            if let Some((key, rt)) = chosen {
                self.refresh_tokens.retain(|_, old| old.client_id != client);
                self.refresh_tokens.insert(key, rt);
            }
        }
        self.id_tokens.extend(imported.id_tokens.clone());
        self.accounts.extend(imported.accounts.clone());
        self.app_metadata.extend(imported.app_metadata.clone());
    }

    /// Forgets the access token `secret` (an API refused it with a challenge), so that it is never served
    /// again; whether it was there.
    pub(crate) fn forget_access_token(&mut self, secret: &str) -> bool {
        let before = self.access_tokens.len();
        self.access_tokens.retain(|_, entry| entry.secret.expose() != secret);
        self.access_tokens.len() != before
    }

    /// A cached access token of this client covering `scopes` (the request without reserved scopes) and valid
    /// for more than `min_remaining` seconds (normally [`EXPIRY_BUFFER_SECS`]).
    pub(crate) fn find_access_token(
        &self,
        client_id: &str,
        scopes: &ScopeSet,
        now: u64,
        min_remaining: u64,
    ) -> Option<&AccessTokenEntry> {
        self.access_tokens.values().find(|entry| {
            entry.client_id == client_id
                && entry.expires_on > now + min_remaining
                && entry.target.is_superset_of(scopes)
        })
    }

    /// The user's refresh token for this client.
    pub(crate) fn refresh_token(&self, client_id: &str) -> Option<&RefreshTokenEntry> {
        self.refresh_tokens.values().find(|entry| entry.client_id == client_id)
    }

    /// The account entry of the partition's user.
    pub(crate) fn account(&self) -> Option<&AccountEntry> {
        self.accounts.values().next()
    }

    /// The user's latest ID token for this client.
    pub(crate) fn id_token(&self, client_id: &str) -> Option<&IdTokenEntry> {
        self.id_tokens.values().find(|entry| entry.client_id == client_id)
    }
}

/// Whether a token with this `refresh_on` should be refreshed early by `now` (MSAL's proactive refresh).
pub(crate) fn due_for_refresh(refresh_on: Option<u64>, now: u64) -> bool {
    refresh_on.is_some_and(|refresh_on| now >= refresh_on)
}

impl AccessTokenEntry {
    /// Whether the token should be refreshed early by `now`.
    pub(crate) fn due_for_refresh(&self, now: u64) -> bool {
        due_for_refresh(self.refresh_on, now)
    }
}

/// How long a new access token lives: `expires_in`, or MSAL's default when the provider left it out.
pub(crate) fn access_token_lifetime(response: &TokenResponse) -> u64 {
    response.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS)
}

/// Whether a new token supersedes an old one: they share a resource scope, or both carry only the reserved
/// OpenID Connect scopes (a token for the userinfo endpoint). Reserved scopes alone never count as overlap:
/// Entra lists `openid profile` in every token response, for every resource.
fn scopes_overlap(old: &ScopeSet, new: &ScopeSet) -> bool {
    let (old, new) = (old.without_reserved(), new.without_reserved());
    if old.is_empty() && new.is_empty() { true } else { old.intersects(&new) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::provider::account::{AccountIdentity, AuthorityType, HomeAccountId};
    use crate::secret::Secret;

    pub(crate) fn account(home: &str) -> AccountEntry {
        AccountEntry::from_identity(&identity(home))
    }

    pub(crate) fn identity(home: &str) -> AccountIdentity {
        AccountIdentity {
            home_account_id: HomeAccountId::new(home),
            msal_home_account_id: None,
            environment: "login.example".into(),
            realm: "tenant".into(),
            local_account_id: "local".into(),
            username: "user@example.test".into(),
            name: Some("User".into()),
            issuer: "https://login.example".into(),
            subject: "sub".into(),
            authority_type: AuthorityType::Generic,
            client_info: None,
            login_hint: None,
        }
    }

    pub(crate) fn response(access_token: &str, scope: Option<&str>, expires_in: u64) -> TokenResponse {
        TokenResponse {
            refresh_token: Some(Secret::new(format!("rt-for-{access_token}"))),
            id_token: Some(Secret::new("id-token")),
            ..TokenResponse::bearer(Secret::new(access_token), expires_in, scope.map(str::to_owned))
        }
    }

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    /// Records `response` for "alice.tenant" and client "client" as if `scope` had been requested.
    pub(crate) fn issue(
        partition: &mut CachePartition,
        response: &TokenResponse,
        scope: &str,
        grant_type: GrantType,
        now: u64,
    ) {
        let account = account("alice.tenant");
        let requested = scopes(scope);
        let issued = Issued { account: &account, client_id: "client", requested: &requested, grant_type, now };
        partition.record(&issued, response);
    }

    fn record(partition: &mut CachePartition, token: &str, scope: &str, expires_in: u64) {
        issue(partition, &response(token, Some(scope), expires_in), scope, GrantType::RefreshToken, NOW);
    }

    #[test]
    fn records_every_entity_with_msal_keys() {
        let mut partition = CachePartition::default();
        record(&mut partition, "at-1", "openid profile Mail.Read", 3600);
        let at = partition.find_access_token("client", &scopes("mail.read"), NOW, EXPIRY_BUFFER_SECS).unwrap();
        assert_eq!(at.secret.expose(), "at-1");
        assert_eq!(at.expires_on, NOW + 3600);
        assert_eq!(
            partition.access_tokens.keys().next().unwrap(),
            "alice.tenant-login.example-accesstoken-client-tenant-mail.read openid profile"
        );
        assert_eq!(partition.refresh_token("client").unwrap().secret.expose(), "rt-for-at-1");
        assert_eq!(partition.id_token("client").unwrap().key(), "alice.tenant-login.example-idtoken-client-tenant-");
        assert_eq!(partition.accounts.len(), 1);
        assert_eq!(partition.app_metadata.len(), 1);
    }

    #[test]
    fn serves_only_supersets_valid_beyond_the_buffer() {
        let mut partition = CachePartition::default();
        record(&mut partition, "at-1", "Mail.Read Mail.Send", 3600);
        assert!(partition.find_access_token("client", &scopes("MAIL.SEND"), NOW, EXPIRY_BUFFER_SECS).is_some());
        assert!(
            partition
                .find_access_token("client", &scopes("Mail.Read Calendars.Read"), NOW, EXPIRY_BUFFER_SECS)
                .is_none()
        );
        assert!(partition.find_access_token("other-client", &scopes("Mail.Read"), NOW, EXPIRY_BUFFER_SECS).is_none());
        assert!(
            partition
                .find_access_token(
                    "client",
                    &scopes("Mail.Read"),
                    NOW + 3600 - EXPIRY_BUFFER_SECS - 1,
                    EXPIRY_BUFFER_SECS
                )
                .is_some()
        );
        assert!(
            partition
                .find_access_token("client", &scopes("Mail.Read"), NOW + 3600 - EXPIRY_BUFFER_SECS, EXPIRY_BUFFER_SECS)
                .is_none()
        );
        // Within the buffer but unexpired: found only when the caller accepts that (provider outage).
        assert!(partition.find_access_token("client", &scopes("Mail.Read"), NOW + 3599, 0).is_some());
        assert!(partition.find_access_token("client", &scopes("Mail.Read"), NOW + 3600, 0).is_none());
    }

    #[test]
    fn a_new_token_replaces_overlapping_ones_and_rotates_the_refresh_token() {
        let mut partition = CachePartition::default();
        record(&mut partition, "read", "openid Mail.Read", 3600);
        record(&mut partition, "other-api", "openid Orders.Read", 3600);
        record(&mut partition, "read-send", "openid Mail.Read Mail.Send", 3600);
        let secrets: Vec<_> = partition.access_tokens.values().map(|at| at.secret.expose().to_owned()).collect();
        assert_eq!(secrets.len(), 2, "{secrets:?}");
        assert!(secrets.contains(&"other-api".to_owned()) && secrets.contains(&"read-send".to_owned()));
        assert_eq!(partition.refresh_tokens.len(), 1);
        assert_eq!(partition.refresh_token("client").unwrap().secret.expose(), "rt-for-read-send");
    }

    #[test]
    fn a_partition_lives_as_long_as_its_refresh_token_or_its_latest_access_token() {
        let mut partition = CachePartition::default();
        assert_eq!(partition.keep_until(NOW, 90), NOW + 90, "empty: the default lifetime");
        record(&mut partition, "at", "Mail.Read", 3600);
        assert_eq!(partition.keep_until(NOW, 90), NOW + 3600, "the access token outlives the default");
        let mut with_expiry = response("at2", Some("Mail.Read"), 60);
        with_expiry.refresh_token_expires_in = Some(86_400);
        issue(&mut partition, &with_expiry, "Mail.Read", GrantType::RefreshToken, NOW);
        assert_eq!(partition.keep_until(NOW, 90), NOW + 86_400, "the provider's refresh-token lifetime");
    }

    #[test]
    fn a_refresh_token_covers_what_was_granted_and_keeps_it_through_rotation() {
        let mut partition = CachePartition::default();
        let grant = |partition: &mut CachePartition, scope: &str, grant_type| {
            issue(partition, &response("at", Some(scope), 3600), scope, grant_type, NOW);
        };
        grant(&mut partition, "Mail.Read Mail.Send", GrantType::AuthorizationCode);
        grant(&mut partition, "Mail.Read", GrantType::RefreshToken);
        let covered = partition.refresh_token("client").unwrap().covered_scopes().unwrap();
        assert_eq!(covered, scopes("Mail.Read Mail.Send"), "a rotated token keeps what it covered");
        grant(&mut partition, "Orders.Read", GrantType::AuthorizationCode);
        let covered = partition.refresh_token("client").unwrap().covered_scopes().unwrap();
        assert_eq!(covered, scopes("Orders.Read"), "a new authorization's token covers what it granted");
    }

    #[test]
    fn an_import_keeps_the_refresh_token_another_library_rotated_not_the_spent_one_it_started_from() {
        let mut held = CachePartition::default();
        record(&mut held, "ours", "Mail.Read", 3600);
        // What MSAL Python or msal-node hands back after refreshing with ours: ours still there (under our key,
        // which they do not compute), theirs beside it (msal-node writes no `last_modification_time`), and
        // their newer access token.
        let mut theirs = held.clone();
        let mut rotated = held.refresh_token("client").unwrap().clone();
        rotated.secret = Secret::new("rt-theirs");
        rotated.last_modification_time = None;
        theirs.refresh_tokens.insert("alice.tenant-login.example-refreshtoken-client---".into(), rotated);
        let mut newer = held.access_tokens.values().next().unwrap().clone();
        newer.secret = Secret::new("at-theirs");
        newer.cached_at = NOW + 60;
        newer.target = scopes("Mail.Read offline_access openid profile");
        theirs.access_tokens.insert(newer.key(), newer);

        held.merge_imported(&theirs);
        assert_eq!(held.refresh_tokens.len(), 1);
        assert_eq!(held.refresh_token("client").unwrap().secret.expose(), "rt-theirs");
        let served = held.find_access_token("client", &scopes("Mail.Read"), NOW, EXPIRY_BUFFER_SECS).unwrap();
        assert_eq!(served.secret.expose(), "at-theirs");
        assert_eq!(held.access_tokens.len(), 1, "the older overlapping token is gone");
    }

    #[test]
    fn long_lived_tokens_get_a_proactive_refresh_time() {
        let mut partition = CachePartition::default();
        record(&mut partition, "long", "Mail.Read", 4 * 3600);
        let at = partition.find_access_token("client", &scopes("Mail.Read"), NOW, EXPIRY_BUFFER_SECS).unwrap();
        assert_eq!(at.refresh_on, Some(NOW + 2 * 3600));
        record(&mut partition, "short", "Mail.Read", 3600);
        assert_eq!(
            partition.find_access_token("client", &scopes("Mail.Read"), NOW, EXPIRY_BUFFER_SECS).unwrap().refresh_on,
            None
        );
    }

    #[test]
    fn lifetimes_of_any_size_saturate_instead_of_overflowing() {
        // Found by a property test: `"expires_in": 18446744073709551615` panicked (and wrapped in release).
        let mut huge = response("at", Some("Mail.Read"), u64::MAX);
        huge.refresh_in = Some(u64::MAX);
        huge.ext_expires_in = Some(u64::MAX);
        huge.refresh_token_expires_in = Some(u64::MAX);
        let mut partition = CachePartition::default();
        issue(&mut partition, &huge, "Mail.Read", GrantType::RefreshToken, NOW);
        let at = partition.access_tokens.values().next().unwrap();
        assert_eq!((at.expires_on, at.extended_expires_on, at.refresh_on), (u64::MAX, u64::MAX, Some(u64::MAX)));
        assert_eq!(partition.refresh_token("client").unwrap().expires_on, Some(u64::MAX));
    }
}
