//! The provider's signing keys (JWKS), cached, following key rotation (docs/SECURITY.md §13).
//!
//! Providers publish a new key before they sign with it, but a cached key set can be older than that. An
//! unknown `kid` therefore triggers one re-fetch, rate-limited so that tokens with made-up `kid`s cannot turn
//! the app into a JWKS request amplifier. Entries that cannot be parsed are skipped, not fatal: a provider
//! adding a key type this crate does not know must not break sign-in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use parking_lot::RwLock;
use serde::Deserialize;
use url::Url;

use crate::provider::discovery::{DiscoveryError, get_with_one_retry};
use crate::provider::http::ProviderHttp;

/// A key that can verify signatures of one algorithm family.
pub(crate) struct VerificationKey {
    kid: Option<String>,
    /// The algorithms this key may verify: from its `alg`, else from its type and curve.
    algorithms: Vec<Algorithm>,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey").field("kid", &self.kid).field("algorithms", &self.algorithms).finish()
    }
}

#[derive(Debug)]
struct KeySet {
    keys: Vec<Arc<VerificationKey>>,
    fetched_at: Instant,
}

/// How often the key set may be re-fetched at most, and when it is considered stale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRefreshPolicy {
    /// Minimum time between two fetches (unknown `kid`s within it do not fetch again).
    pub(crate) min_interval: Duration,
    /// A key set older than this is re-fetched before use (a failed re-fetch keeps the old set).
    pub(crate) max_age: Duration,
}

/// The cached JWKS of one provider.
#[derive(Debug)]
pub(crate) struct SigningKeys {
    http: ProviderHttp,
    jwks_uri: Url,
    policy: KeyRefreshPolicy,
    current: RwLock<Arc<KeySet>>,
    /// Serialises re-fetches; holds when the last re-fetch started. The start-up fetch does not count, so the
    /// first unknown `kid` always re-fetches; after that at most one re-fetch per `min_interval`.
    refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl SigningKeys {
    /// Fetches the key set; start-up fails when it holds no usable key.
    pub(crate) async fn fetch(
        http: ProviderHttp,
        jwks_uri: Url,
        policy: KeyRefreshPolicy,
    ) -> Result<Self, DiscoveryError> {
        let keys = fetch_key_set(&http, &jwks_uri).await?;
        if keys.keys.is_empty() {
            return Err(DiscoveryError::NoSigningKeys { url: jwks_uri });
        }
        Ok(Self {
            http,
            jwks_uri,
            policy,
            refetch: tokio::sync::Mutex::new(None),
            current: RwLock::new(Arc::new(keys)),
        })
    }

    /// An empty key set, fetched from `jwks_uri` the first time a token names a `kid` (the rate limit
    /// applies from then on): the in-memory provider of the `testing` feature, which has no keys at start-up.
    #[cfg(feature = "testing")]
    pub(crate) fn not_fetched(http: ProviderHttp, jwks_uri: Url, policy: KeyRefreshPolicy) -> Self {
        Self {
            http,
            jwks_uri,
            policy,
            refetch: tokio::sync::Mutex::new(None),
            current: RwLock::new(Arc::new(KeySet { keys: Vec::new(), fetched_at: Instant::now() })),
        }
    }

    /// A key set that is never re-fetched, for unit tests that sign their own tokens.
    #[cfg(test)]
    pub(crate) fn with_keys(jwks: Vec<serde_json::Value>) -> Self {
        // Never used, and costly to build (TLS set-up): one for all, so that property tests can make a key set
        // per case.
        static HTTP: std::sync::LazyLock<ProviderHttp> =
            std::sync::LazyLock::new(|| ProviderHttp::new(Duration::from_secs(1)).unwrap());
        let keys = KeySet { keys: parse_keys(jwks), fetched_at: Instant::now() };
        Self {
            http: HTTP.clone(),
            jwks_uri: Url::parse("http://127.0.0.1:9/jwks").unwrap(),
            policy: KeyRefreshPolicy { min_interval: Duration::from_secs(3600), max_age: Duration::from_secs(3600) },
            refetch: tokio::sync::Mutex::new(Some(keys.fetched_at)),
            current: RwLock::new(Arc::new(keys)),
        }
    }

    /// The keys that may verify a token signed with `alg` under `kid`; re-fetches once for an unknown `kid`.
    pub(crate) async fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<VerificationKey>> {
        if self.snapshot().fetched_at.elapsed() > self.policy.max_age {
            self.refetch_if_allowed().await;
        }
        let found = matching(&self.snapshot(), kid, alg);
        if !found.is_empty() || kid.is_none() {
            return found;
        }
        self.refetch_if_allowed().await;
        matching(&self.snapshot(), kid, alg)
    }

    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read())
    }

    async fn refetch_if_allowed(&self) {
        let mut last = self.refetch.lock().await;
        // Another request may have re-fetched while this one waited for the lock.
        if last.is_some_and(|last| last.elapsed() < self.policy.min_interval) {
            return;
        }
        *last = Some(Instant::now());
        match fetch_key_set(&self.http, &self.jwks_uri).await {
            Ok(keys) if !keys.keys.is_empty() => *self.current.write() = Arc::new(keys),
            Ok(_) => {
                tracing::warn!(jwks_uri = ?self.jwks_uri.as_str(), "the provider's JWKS holds no usable key; keeping the cached keys")
            }
            Err(error) => {
                tracing::warn!(error = ?error.to_string(), "re-fetching the provider's JWKS failed; keeping the cached keys")
            }
        }
    }
}

fn matching(set: &KeySet, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<VerificationKey>> {
    set.keys
        .iter()
        .filter(|key| key.algorithms.contains(&alg))
        .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
        .cloned()
        .collect()
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

async fn fetch_key_set(http: &ProviderHttp, jwks_uri: &Url) -> Result<KeySet, DiscoveryError> {
    let response = get_with_one_retry(http, jwks_uri).await?;
    let raw: RawJwks =
        response.json().map_err(|source| DiscoveryError::InvalidDocument { url: jwks_uri.clone(), source })?;
    Ok(KeySet { keys: parse_keys(raw.keys), fetched_at: Instant::now() })
}

/// Turns JWKS entries into verification keys, skipping what cannot or must not verify ID tokens.
fn parse_keys(entries: Vec<serde_json::Value>) -> Vec<Arc<VerificationKey>> {
    entries
        .into_iter()
        .filter_map(|entry| {
            let jwk: Jwk = serde_json::from_value(entry).ok()?;
            verification_key(&jwk)
        })
        .map(Arc::new)
        .collect()
}

fn verification_key(jwk: &Jwk) -> Option<VerificationKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))) {
        return None;
    }
    // What the key type allows; symmetric (`oct`) keys are never taken from a JWKS (RFC 8725 §2.1).
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa.algorithms().to_vec(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => by_type,
        Some(declared) => {
            let declared = Algorithm::try_from(declared).ok()?;
            if !by_type.contains(&declared) {
                return None;
            }
            vec![declared]
        }
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerificationKey { kid: jwk.common.key_id.clone(), algorithms, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N: &str = "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw";

    fn rsa(kid: &str) -> serde_json::Value {
        json!({ "kty": "RSA", "use": "sig", "kid": kid, "n": N, "e": "AQAB" })
    }

    #[test]
    fn skips_unusable_entries_and_keeps_the_rest() {
        let keys = parse_keys(vec![
            json!({ "kty": "RSA", "kid": "broken", "n": 5 }),
            json!({ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" }),
            json!({ "kty": "RSA", "use": "enc", "kid": "enc", "n": N, "e": "AQAB" }),
            json!({ "kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA" }),
            json!({ "kty": "RSA", "alg": "ES256", "kid": "lying", "n": N, "e": "AQAB" }),
            json!({ "kty": "FUTURE", "kid": "future" }),
            rsa("good"),
        ]);
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["good"]);
    }

    #[test]
    fn matches_by_kid_and_algorithm() {
        let set = KeySet { keys: parse_keys(vec![rsa("a"), rsa("b")]), fetched_at: Instant::now() };
        assert_eq!(matching(&set, Some("b"), Algorithm::RS256).len(), 1);
        assert_eq!(matching(&set, Some("c"), Algorithm::RS256).len(), 0);
        assert_eq!(matching(&set, Some("a"), Algorithm::ES256).len(), 0);
        // No `kid`: every key of the right type is a candidate.
        assert_eq!(matching(&set, None, Algorithm::PS256).len(), 2);
    }
}
