//! How the app proves who it is at the token endpoint (RFC 6749 §2.3.1; RFC 7523 and OpenID Connect Core §9
//! `private_key_jwt`), and which method to use with a given provider.

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use url::Url;

use crate::clock::unix_now;
use crate::random::random_token;
use crate::secret::Secret;

/// How the client proves its identity at the token endpoint (docs/SECURITY.md §22).
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientCredential {
    /// A client secret sent in the `Authorization: Basic` header (RFC 6749 §2.3.1).
    SecretBasic(ClientSecret),
    /// A client secret sent in the form body.
    SecretPost(ClientSecret),
    /// A JWT signed with the client's private key (RFC 7523; OpenID Connect Core §9 `private_key_jwt`).
    PrivateKeyJwt(ClientAssertionKey),
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientCredential::SecretBasic(_) => f.write_str("SecretBasic([redacted])"),
            ClientCredential::SecretPost(_) => f.write_str("SecretPost([redacted])"),
            ClientCredential::PrivateKeyJwt(key) => write!(f, "PrivateKeyJwt({key:?})"),
        }
    }
}

/// A client secret. `Debug` is redacted; there is no `Display`.
#[derive(Clone)]
pub struct ClientSecret(Secret);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Secret::new(secret.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// The private key for `private_key_jwt`.
#[derive(Clone)]
pub struct ClientAssertionKey {
    key: EncodingKey,
    algorithm: Algorithm,
    key_id: Option<String>,
    /// Entra identifies a certificate credential by its SHA-256 thumbprint (`x5t#S256` header).
    x5t_s256: Option<String>,
}

impl ClientAssertionKey {
    /// A PKCS#8 / PKCS#1 (RSA) or SEC1 / PKCS#8 (EC P-256) private key in PEM, signing with `algorithm`
    /// (RS256, PS256 or ES256) and naming `key_id` in the assertion's header.
    pub fn from_pem(
        pem: &[u8],
        algorithm: Algorithm,
        key_id: Option<String>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let key = match algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem)?,
            Algorithm::RS256 | Algorithm::PS256 => EncodingKey::from_rsa_pem(pem)?,
            _ => return Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
        };
        Ok(Self { key, algorithm, key_id, x5t_s256: None })
    }

    /// Adds the certificate's base64url SHA-256 thumbprint, which Entra uses to find the credential.
    pub fn with_certificate_thumbprint(mut self, x5t_s256: impl Into<String>) -> Self {
        self.x5t_s256 = Some(x5t_s256.into());
        self
    }

    /// A client assertion for `token_endpoint` (RFC 7523 §3): `iss` = `sub` = client id, `aud` = the token
    /// endpoint, short-lived, unique `jti`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        token_endpoint: &Url,
    ) -> Result<Secret, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_endpoint.as_str(),
            "jti": random_token(),
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        });
        let mut header = Header::new(self.algorithm);
        header.kid = self.key_id.clone();
        header.x5t_s256 = self.x5t_s256.clone();
        jsonwebtoken::encode(&header, &claims, &self.key).map(Secret::new)
    }
}

impl fmt::Debug for ClientAssertionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertionKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Client authentication with a secret (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` (the default when the provider lists it, as RFC 6749 requires it).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// The credential as configured: a secret (with a method, or the provider's preference), or a private key.
#[derive(Debug, Clone)]
pub(crate) enum CredentialSetting {
    Secret { secret: ClientSecret, method: Option<ClientAuthMethod> },
    PrivateKeyJwt(ClientAssertionKey),
}

impl CredentialSetting {
    /// The credential to present: `client_secret_basic` unless configured otherwise or the provider lists only
    /// `client_secret_post` (RFC 6749 §2.3.1 requires providers to support Basic; discovery's default is Basic).
    pub(crate) fn resolve(&self, methods_supported: Option<&[String]>) -> ClientCredential {
        match self {
            CredentialSetting::PrivateKeyJwt(key) => ClientCredential::PrivateKeyJwt(key.clone()),
            CredentialSetting::Secret { secret, method } => {
                let method = method.unwrap_or_else(|| match methods_supported {
                    Some(methods)
                        if !methods.iter().any(|m| m == "client_secret_basic")
                            && methods.iter().any(|m| m == "client_secret_post") =>
                    {
                        ClientAuthMethod::ClientSecretPost
                    }
                    _ => ClientAuthMethod::ClientSecretBasic,
                });
                match method {
                    ClientAuthMethod::ClientSecretBasic => ClientCredential::SecretBasic(secret.clone()),
                    ClientAuthMethod::ClientSecretPost => ClientCredential::SecretPost(secret.clone()),
                }
            }
        }
    }
}
