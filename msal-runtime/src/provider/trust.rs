//! [`Provider`]: the identity provider as this app trusts it, set up once at start-up: its discovered
//! metadata, its signing keys, the ID token rules, and the token endpoint with the app's credential.
//! Sign-in and token acquisition use it; it knows nothing of them.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use crate::provider::account::{AccountError, AccountIdentity, identify};
use crate::provider::authority::{Authority, IssuerMismatch};
use crate::provider::capabilities::with_capabilities;
use crate::provider::credential::CredentialSetting;
use crate::provider::discovery::{Discovered, DiscoveryError, ProviderMetadata, discover};
use crate::provider::http::ProviderHttp;
use crate::provider::id_token::{Expect, IdTokenClaims, IdTokenError, IdTokenRules};
use crate::provider::signing_keys::{KeyRefreshPolicy, SigningKeys};
use crate::provider::token_endpoint::TokenEndpoint;

/// What [`Provider::connect`] needs to know of the app.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderSettings<'a> {
    pub(crate) authority: &'a Authority,
    pub(crate) client_id: &'a str,
    pub(crate) credential: &'a CredentialSetting,
    /// The app receives authorization responses by `form_post`, which the provider must then support.
    pub(crate) form_post: bool,
    pub(crate) http_timeout: Duration,
    pub(crate) id_token_algorithms: &'a [Algorithm],
    pub(crate) clock_skew: Duration,
    pub(crate) key_refresh: KeyRefreshPolicy,
    /// The client's capabilities (`cp1`), sent with every token request.
    pub(crate) client_capabilities: &'a [String],
}

/// Why the provider cannot be trusted or reached at start-up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("the provider signs ID tokens with {supported:?}, none of which is allowed ({allowed:?})")]
    NoCommonAlgorithm { supported: Vec<String>, allowed: Vec<Algorithm> },
}

/// Why an authorization response's `iss` parameter is refused (RFC 9207 §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResponseIssuerError {
    /// It names another issuer.
    Mismatch(IssuerMismatch),
    /// It is absent although the provider says it sends one.
    Missing,
}

/// The identity provider of one app.
#[derive(Debug)]
pub(crate) struct Provider {
    authority: Authority,
    metadata: ProviderMetadata,
    id_tokens: IdTokenRules,
    keys: SigningKeys,
    token_endpoint: TokenEndpoint,
}

impl Provider {
    /// Discovers the provider, fetches its signing keys, and settles the ID token algorithms and the client
    /// authentication method against what it supports.
    pub(crate) async fn connect(settings: ProviderSettings<'_>) -> Result<Self, ConnectError> {
        let http = ProviderHttp::new(settings.http_timeout).map_err(ConnectError::HttpClient)?;
        let discovered = discover(&http, settings.authority, settings.form_post).await?;
        let keys = SigningKeys::fetch(http.clone(), discovered.metadata.jwks_uri.clone(), settings.key_refresh).await?;
        Self::trusting(settings, http, discovered, keys)
    }

    /// A provider described by `metadata` instead of discovered, holding no signing key until its JWKS is
    /// asked for (an unknown `kid` fetches it, as for a discovered one): the in-memory provider of the
    /// `testing` feature, which never connects at start-up. The metadata passes the checks discovered
    /// metadata does; everything after start-up is the same code.
    #[cfg(feature = "testing")]
    pub(crate) fn described(settings: ProviderSettings<'_>, metadata: ProviderMetadata) -> Result<Self, ConnectError> {
        let http = ProviderHttp::new(settings.http_timeout).map_err(ConnectError::HttpClient)?;
        let issuer = settings.authority.issuer_policy(&metadata.issuer).map_err(DiscoveryError::from)?;
        crate::provider::discovery::check_metadata(&metadata, settings.form_post)?;
        let keys = SigningKeys::not_fetched(http.clone(), metadata.jwks_uri.clone(), settings.key_refresh);
        Self::trusting(settings, http, Discovered { metadata, issuer }, keys)
    }

    /// The provider as `discovered`, with its `keys`: the ID token algorithms and the client authentication
    /// method settled against what it supports.
    fn trusting(
        settings: ProviderSettings<'_>,
        http: ProviderHttp,
        discovered: Discovered,
        keys: SigningKeys,
    ) -> Result<Self, ConnectError> {
        let metadata = discovered.metadata;
        let algorithms = common_algorithms(settings.id_token_algorithms, &metadata)?;
        let token_endpoint = TokenEndpoint {
            http,
            url: metadata.token_endpoint.clone(),
            client_id: settings.client_id.to_owned(),
            credential: settings.credential.resolve(metadata.token_endpoint_auth_methods_supported.as_deref()),
            entra: settings.authority.is_entra(),
            capabilities: with_capabilities(None, settings.client_capabilities),
        };
        let id_tokens = IdTokenRules {
            client_id: settings.client_id.to_owned(),
            issuer: discovered.issuer,
            algorithms,
            clock_skew: settings.clock_skew,
        };
        Ok(Self { authority: settings.authority.clone(), metadata, id_tokens, keys, token_endpoint })
    }

    pub(crate) fn authority(&self) -> &Authority {
        &self.authority
    }

    pub(crate) fn authorization_endpoint(&self) -> &Url {
        &self.metadata.authorization_endpoint
    }

    /// Where RP-initiated logout ends the provider's session, when the provider has such an endpoint.
    pub(crate) fn end_session_endpoint(&self) -> Option<&Url> {
        self.metadata.end_session_endpoint.as_ref()
    }

    pub(crate) fn token_endpoint(&self) -> &TokenEndpoint {
        &self.token_endpoint
    }

    /// RFC 9207 §2.4: the `iss` of an authorization response (error responses too) is the provider's, and is
    /// present whenever the provider's metadata says it sends one.
    pub(crate) fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), ResponseIssuerError> {
        match iss {
            Some(iss) => self.id_tokens.issuer.check_response_issuer(iss).map_err(ResponseIssuerError::Mismatch),
            None if self.metadata.authorization_response_iss_parameter_supported => Err(ResponseIssuerError::Missing),
            None => Ok(()),
        }
    }

    /// Validates an ID token completely (signature, issuer, audience, times, nonce) and returns its claims;
    /// `now` is seconds since the epoch.
    pub(crate) async fn validate_id_token(
        &self,
        raw: &str,
        expect: Expect<'_>,
        now: i64,
    ) -> Result<IdTokenClaims, IdTokenError> {
        self.id_tokens.validate(&self.keys, raw, expect, now).await
    }

    /// Who the validated claims (and Entra's `client_info` of the same token response) say the user is.
    pub(crate) fn identify(
        &self,
        claims: &IdTokenClaims,
        client_info: Option<&str>,
    ) -> Result<AccountIdentity, AccountError> {
        identify(&self.authority, claims, client_info)
    }
}

/// The configured algorithms the provider actually uses (all of them when it does not say).
fn common_algorithms(allowed: &[Algorithm], metadata: &ProviderMetadata) -> Result<Vec<Algorithm>, ConnectError> {
    let Some(supported) = &metadata.id_token_signing_alg_values_supported else { return Ok(allowed.to_vec()) };
    let common: Vec<Algorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| supported.iter().any(|s| s.parse::<Algorithm>().ok() == Some(*alg)))
        .collect();
    if common.is_empty() {
        return Err(ConnectError::NoCommonAlgorithm { supported: supported.clone(), allowed: allowed.to_vec() });
    }
    Ok(common)
}
