//! PKCE with S256 only (RFC 7636 §4; docs/SECURITY.md §1): a fresh verifier per sign-in, never `plain`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::random::random_token;
use crate::secret::Secret;

/// The secret half of PKCE, kept server-side with the pending sign-in.
#[derive(Debug, Clone)]
pub(crate) struct PkceVerifier(Secret);

impl PkceVerifier {
    /// 32 random bytes as 43 base64url characters: the minimum length of RFC 7636 §4.1 with full entropy.
    pub(crate) fn generate() -> Self {
        Self(Secret::new(random_token()))
    }

    /// A verifier carried by the sign-in's sealed cookie (see `transaction`).
    pub(crate) fn from_secret(verifier: String) -> Self {
        Self(Secret::new(verifier))
    }

    pub(crate) fn secret(&self) -> &str {
        self.0.expose()
    }

    /// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2.
    pub(crate) fn s256_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.expose().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc7636_appendix_b() {
        let verifier = PkceVerifier(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(verifier.s256_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_is_fresh_and_in_range() {
        let a = PkceVerifier::generate();
        let b = PkceVerifier::generate();
        assert_ne!(a.secret(), b.secret());
        assert!((43..=128).contains(&a.secret().len()));
    }
}
