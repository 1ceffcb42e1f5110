//! The hot path of a cache hit.
//!
//! With 100,000 users cached, a hit is bound by memory latency, not by computation: walking the MSAL entities
//! of a partition (a B-tree, then the client id, target and scope strings on the heap) costs a dozen cache
//! misses. So each stored partition carries a summary of this client's access tokens, inline next to it:
//! expiry, `refresh_on`, and the scopes as small interned ids. A hit reads that summary and the token's
//! reference count, nothing else. The summary answers exactly what the full rules would; when it cannot
//! represent a partition (many tokens, many scopes), it says so and the full rules run instead.

use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::RwLock;

use crate::cache::schema::CachePartition;
use crate::scope::set::{Scope, ScopeSet};
use crate::secret::Secret;

/// Most scopes of one summarised token; tokens with more are left to the full rules.
const MAX_SCOPES: usize = 12;
/// Most summarised tokens per partition (one per resource is the usual count).
const MAX_TOKENS: usize = 3;
/// Distinct scope names interned at most. Only provider-issued targets are interned, never request input,
/// but the bound keeps even a misbehaving provider from growing it without end.
const MAX_INTERNED: usize = 1 << 16;

type Interner = RwLock<HashMap<Scope, u16, foldhash::fast::RandomState>>;

fn interner() -> &'static Interner {
    static INTERNER: OnceLock<Interner> = OnceLock::new();
    INTERNER.get_or_init(Interner::default)
}

/// Scope ids, sorted: the scopes of a token or of a request. Ids are 16 bits, as the interner's bound, so
/// that a summarised token fits one cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScopeIds {
    ids: [u16; MAX_SCOPES],
    len: u8,
}

impl ScopeIds {
    fn from_ids(mut ids: Vec<u16>) -> Option<Self> {
        if ids.len() > MAX_SCOPES {
            return None;
        }
        ids.sort_unstable();
        let mut out = [0; MAX_SCOPES];
        out[..ids.len()].copy_from_slice(&ids);
        Some(Self { ids: out, len: ids.len() as u8 })
    }

    fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    /// The ids of a request's scopes; `None` when a scope was never issued (no summarised token can hold it)
    /// or there are too many.
    pub(crate) fn of_request(scopes: &ScopeSet) -> Option<Self> {
        let interner = interner().read();
        let ids = scopes.iter().map(|scope| interner.get(scope).copied()).collect::<Option<Vec<u16>>>()?;
        Self::from_ids(ids)
    }

    /// The ids of an issued token's scopes, interning new names.
    fn of_token(scopes: &ScopeSet) -> Option<Self> {
        let mut ids = Vec::with_capacity(scopes.len());
        for scope in scopes.iter() {
            if let Some(id) = interner().read().get(scope) {
                ids.push(*id);
                continue;
            }
            let mut interner = interner().write();
            let next = interner.len();
            if next >= MAX_INTERNED && !interner.contains_key(scope) {
                return None;
            }
            ids.push(*interner.entry(scope.clone()).or_insert(next as u16));
        }
        Self::from_ids(ids)
    }

    /// Whether every id of `request` is in `self`: one merge walk over two sorted arrays.
    fn covers(&self, request: &ScopeIds) -> bool {
        let mut mine = self.as_slice().iter();
        request.as_slice().iter().all(|wanted| mine.by_ref().any(|have| have == wanted))
    }
}

/// One summarised access token: 64 bytes, one cache line.
#[derive(Debug, Clone)]
pub(crate) struct HotToken {
    pub(crate) secret: Secret,
    pub(crate) expires_on: u64,
    /// MSAL's `refresh_on`; 0 when the token has none.
    refresh_on: u64,
    scopes: ScopeIds,
}

impl HotToken {
    /// Whether the token should be refreshed early by now (MSAL's `refresh_on`).
    pub(crate) fn due_for_refresh(&self, now: u64) -> bool {
        self.refresh_on != 0 && now >= self.refresh_on
    }
}

/// The summary of one partition's access tokens for one client. `repr(C)` keeps the first token at the
/// front, next to the slot header a cache hit has just read.
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub(crate) struct HotTokens {
    tokens: [Option<HotToken>; MAX_TOKENS],
    /// Every access token of the client is summarised: a miss here is a miss of the full rules too.
    complete: bool,
}

/// What the summary says about a request.
#[derive(Debug)]
pub(crate) enum HotLookup {
    /// This token serves (the caller still checks `refresh_on`).
    Hit(HotToken),
    /// No cached token serves the request.
    Miss,
    /// The summary cannot tell (or the store keeps none, and then not even whether the partition exists):
    /// load the partition and apply the full rules.
    Unknown,
}

impl HotTokens {
    pub(crate) fn of(partition: &CachePartition, client_id: &str) -> Self {
        let mut hot = HotTokens { complete: true, ..HotTokens::default() };
        let mut slots = hot.tokens.iter_mut();
        for entry in partition.access_tokens.values().filter(|entry| entry.client_id == client_id) {
            match (slots.next(), ScopeIds::of_token(&entry.target.without_reserved())) {
                (Some(slot), Some(scopes)) => {
                    *slot = Some(HotToken {
                        secret: entry.secret.clone(),
                        expires_on: entry.expires_on,
                        refresh_on: entry.refresh_on.unwrap_or(0),
                        scopes,
                    })
                }
                _ => hot.complete = false,
            }
        }
        hot
    }

    /// The token serving `request` (ids of the request without reserved scopes) valid beyond
    /// `now + min_remaining`, by the same rule as `CachePartition::find_access_token`.
    pub(crate) fn find(&self, request: Option<&ScopeIds>, now: u64, min_remaining: u64) -> HotLookup {
        let Some(request) = request else {
            // A scope never issued to anyone: only an unsummarised token could hold it.
            return if self.complete { HotLookup::Miss } else { HotLookup::Unknown };
        };
        let found = self
            .tokens
            .iter()
            .flatten()
            .find(|token| token.expires_on > now + min_remaining && token.scopes.covers(request));
        match found {
            Some(token) => HotLookup::Hit(token.clone()),
            None if self.complete => HotLookup::Miss,
            None => HotLookup::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::partition::GrantType;
    use crate::cache::partition::tests::{issue, response};

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

    /// The summary agrees with the full rules on every request.
    fn agrees(partition: &CachePartition, request: &str, now: u64) {
        let request = scopes(request);
        let full = partition.find_access_token("client", &request, now, 300).map(|at| at.secret.expose().to_owned());
        let hot = HotTokens::of(partition, "client");
        match hot.find(ScopeIds::of_request(&request).as_ref(), now, 300) {
            HotLookup::Hit(token) => assert_eq!(Some(token.secret.expose().to_owned()), full, "{request:?}"),
            HotLookup::Miss => assert_eq!(full, None, "{request:?}"),
            HotLookup::Unknown => panic!("a small partition is summarised completely"),
        }
    }

    #[test]
    fn a_summarised_token_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<HotToken>(), 64);
        assert_eq!(std::mem::size_of::<Option<HotToken>>(), 64);
    }

    #[test]
    fn answers_exactly_like_the_full_rules() {
        let partition =
            partition(&[("read", "openid Mail.Read", 3600), ("orders", "api.Orders.Read api.Orders.Write", 7200)]);
        for request in [
            "Mail.Read",
            "mail.read",
            "api.Orders.Read",
            "API.ORDERS.WRITE api.orders.read",
            "Mail.Send",
            "Mail.Read api.Orders.Read",
            "Never.Issued.Anywhere",
            "",
        ] {
            for now in [1000, 1000 + 3600 - 301, 1000 + 3600 - 300, 1000 + 7200] {
                agrees(&partition, request, now);
            }
        }
    }

    #[test]
    fn hands_large_partitions_to_the_full_rules() {
        let many_scopes = (0..16).map(|i| format!("s{i}.Read")).collect::<Vec<_>>().join(" ");
        let wide = partition(&[("wide", &many_scopes, 3600)]);
        let hot = HotTokens::of(&wide, "client");
        assert!(matches!(hot.find(ScopeIds::of_request(&scopes("s1.Read")).as_ref(), 1000, 300), HotLookup::Unknown));
        let many = partition(&[("a", "a.x", 3600), ("b", "b.x", 3600), ("c", "c.x", 3600), ("d", "d.x", 3600)]);
        let hot = HotTokens::of(&many, "client");
        assert!(matches!(hot.find(ScopeIds::of_request(&scopes("zzz.x")).as_ref(), 1000, 300), HotLookup::Unknown));
        // Other clients' tokens are not this client's cache hits.
        let other = HotTokens::of(&many, "other");
        assert!(matches!(other.find(ScopeIds::of_request(&scopes("a.x")).as_ref(), 1000, 300), HotLookup::Miss));
    }
}
