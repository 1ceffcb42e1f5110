//! Compact JWS verification shared by ID tokens and bearer access tokens (RFC 7515, RFC 8725): header, the
//! algorithm allowlist, key lookup with rotation, and the signature. The claim rules live with each token type.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::provider::signing_keys::SigningKeys;

/// Why a JWS did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// Not three base64url parts, or a header or payload that is not the JSON it should be.
    Malformed,
    /// `alg` is not on the allowlist (`none`, HMAC, or one not registered).
    AlgorithmNotAllowed { alg: String },
    /// No key of the provider's JWKS matches, even after re-fetching it.
    UnknownSigningKey { kid: Option<String> },
    /// The signature does not verify.
    BadSignature,
}

/// The protected header fields this crate reads.
#[derive(Debug, Deserialize)]
pub(crate) struct JwsHeader {
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

/// Verifies `raw` with a key of `keys` under an allowed algorithm and returns its header and payload.
pub(crate) async fn verify<T: DeserializeOwned>(
    raw: &str,
    keys: &SigningKeys,
    algorithms: &[Algorithm],
) -> Result<(JwsHeader, T), JwsError> {
    let header = decode_header(raw)?;
    // The allowlist is checked on the header's own string, before any key is chosen (RFC 8725 §3.1).
    let alg = header
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|alg| algorithms.contains(alg))
        .ok_or_else(|| JwsError::AlgorithmNotAllowed { alg: header.alg.clone() })?;
    let candidates = keys.candidates(header.kid.as_deref(), alg).await;
    if candidates.is_empty() {
        return Err(JwsError::UnknownSigningKey { kid: header.kid });
    }
    let payload = verify_signature(raw, alg, candidates.iter().map(|key| &key.key))?;
    Ok((header, payload))
}

fn decode_header(raw: &str) -> Result<JwsHeader, JwsError> {
    let mut parts = raw.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwsError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| JwsError::Malformed)
}

/// Tries each candidate key until one verifies (a JWKS without `kid`s may hold several). Claim checks are the
/// caller's, so `jsonwebtoken`'s own are switched off.
fn verify_signature<'k, T: DeserializeOwned>(
    raw: &str,
    alg: Algorithm,
    keys: impl Iterator<Item = &'k jsonwebtoken::DecodingKey>,
) -> Result<T, JwsError> {
    use jsonwebtoken::errors::ErrorKind;
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut outcome = Err(JwsError::BadSignature);
    for key in keys {
        match jsonwebtoken::decode::<serde_json::Value>(raw, key, &validation) {
            Ok(data) => return serde_json::from_value(data.claims).map_err(|_| JwsError::Malformed),
            Err(error) => {
                if !matches!(
                    error.kind(),
                    ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_)
                ) {
                    outcome = Err(JwsError::Malformed);
                }
            }
        }
    }
    outcome
}
