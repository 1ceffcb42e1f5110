//! OpenID Connect Discovery: the provider's endpoints, checked against the configuration at start-up.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::provider::authority::{Authority, IssuerMismatch, IssuerPolicy, is_loopback};
use crate::provider::http::{HttpError, ProviderHttp, ProviderResponse};

/// Why the provider's metadata or signing keys could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The document could not be fetched.
    #[error(transparent)]
    Http(HttpError),
    /// The provider answered with an error status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The document's URL.
        url: Url,
        /// The status.
        status: http::StatusCode,
    },
    /// The document is not the JSON it should be.
    #[error("{url} is not a valid document: {source}")]
    InvalidDocument {
        /// The document's URL.
        url: Url,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The document's `issuer` is not the configured authority (OpenID Connect Discovery §4.3).
    #[error("the discovery document's issuer does not match MSAL_AUTHORITY: {0}")]
    IssuerMismatch(#[from] IssuerMismatch),
    /// An endpoint is not https (plain http is accepted on loopback only).
    #[error("the provider's {name} {url} must use https")]
    InsecureEndpoint {
        /// The metadata field.
        name: &'static str,
        /// Its value.
        url: Url,
    },
    /// The provider does not support PKCE with S256.
    #[error("the provider does not support PKCE with S256 (code_challenge_methods_supported)")]
    NoPkceS256,
    /// `form_post` was configured but the provider does not support it.
    #[error("response mode form_post was configured but the provider does not support it")]
    FormPostUnsupported,
    /// The provider's JWKS holds no usable signing key.
    #[error("the provider's JWKS at {url} holds no usable signing key")]
    NoSigningKeys {
        /// The JWKS URL.
        url: Url,
    },
}

/// The fields of the discovery document this crate uses (OpenID Connect Discovery §3, RFC 8414, RFC 9207).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ProviderMetadata {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) jwks_uri: Url,
    #[serde(default)]
    pub(crate) end_session_endpoint: Option<Url>,
    #[serde(default)]
    pub(crate) response_modes_supported: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) id_token_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) authorization_response_iss_parameter_supported: bool,
}

/// Discovery's outcome: the metadata and the issuer rule derived from it.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    pub(crate) metadata: ProviderMetadata,
    pub(crate) issuer: IssuerPolicy,
}

/// Fetches and checks the discovery document. One retry after a second on 5xx or a network error
/// (docs/SECURITY.md §24): a provider restarting at the same moment as the app should not stop the app.
pub(crate) async fn discover(
    http: &ProviderHttp,
    authority: &Authority,
    needs_form_post: bool,
) -> Result<Discovered, DiscoveryError> {
    let url = authority.discovery_url();
    let response = get_with_one_retry(http, &url).await?;
    let metadata: ProviderMetadata =
        response.json().map_err(|source| DiscoveryError::InvalidDocument { url: url.clone(), source })?;
    let issuer = authority.issuer_policy(&metadata.issuer)?;
    check_metadata(&metadata, needs_form_post)?;
    Ok(Discovered { metadata, issuer })
}

/// GET with the single retry of docs/SECURITY.md §24; a non-success status is an error.
pub(crate) async fn get_with_one_retry(http: &ProviderHttp, url: &Url) -> Result<ProviderResponse, DiscoveryError> {
    let mut retried = false;
    loop {
        let outcome = http.get(url).await;
        let retryable = match &outcome {
            Ok(response) => response.status.is_server_error(),
            Err(HttpError::Unreachable(_)) => true,
            Err(_) => false,
        };
        if retryable && !retried {
            retried = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let response = outcome.map_err(DiscoveryError::Http)?;
        if !response.status.is_success() {
            return Err(DiscoveryError::Status { url: url.clone(), status: response.status });
        }
        return Ok(response);
    }
}

pub(crate) fn check_metadata(metadata: &ProviderMetadata, needs_form_post: bool) -> Result<(), DiscoveryError> {
    let mut endpoints = vec![
        ("authorization_endpoint", &metadata.authorization_endpoint),
        ("token_endpoint", &metadata.token_endpoint),
        ("jwks_uri", &metadata.jwks_uri),
    ];
    if let Some(end_session) = &metadata.end_session_endpoint {
        endpoints.push(("end_session_endpoint", end_session));
    }
    for (name, url) in endpoints {
        let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url));
        if !secure {
            return Err(DiscoveryError::InsecureEndpoint { name, url: url.clone() });
        }
    }
    // Entra omits `code_challenge_methods_supported` yet supports S256; only a list without S256 is refused.
    if let Some(methods) = &metadata.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(DiscoveryError::NoPkceS256);
    }
    if needs_form_post
        && let Some(modes) = &metadata.response_modes_supported
        && !modes.iter().any(|m| m == "form_post")
    {
        return Err(DiscoveryError::FormPostUnsupported);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of `https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration`.
    pub(crate) const ENTRA_COMMON_METADATA: &str = r#"{
        "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "device_authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
            "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": "https://login.microsoftonline.com/common/kerberos",
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }"#;

    #[test]
    fn entra_common_metadata_parses_into_a_template_policy() {
        let metadata: ProviderMetadata = serde_json::from_str(ENTRA_COMMON_METADATA).unwrap();
        check_metadata(&metadata, true).unwrap();
        assert!(!metadata.authorization_response_iss_parameter_supported);
        let authority = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        let policy = authority.issuer_policy(&metadata.issuer).unwrap();
        assert!(matches!(policy, IssuerPolicy::EntraTemplate { allow_consumers: true, .. }));
    }

    #[test]
    fn refuses_insecure_endpoints_and_missing_s256() {
        let mut metadata: ProviderMetadata = serde_json::from_str(ENTRA_COMMON_METADATA).unwrap();
        metadata.token_endpoint = Url::parse("http://login.example/token").unwrap();
        assert!(matches!(
            check_metadata(&metadata, false),
            Err(DiscoveryError::InsecureEndpoint { name: "token_endpoint", .. })
        ));
        let mut metadata: ProviderMetadata = serde_json::from_str(ENTRA_COMMON_METADATA).unwrap();
        metadata.code_challenge_methods_supported = Some(vec!["plain".into()]);
        assert!(matches!(check_metadata(&metadata, false), Err(DiscoveryError::NoPkceS256)));
        let mut metadata: ProviderMetadata = serde_json::from_str(ENTRA_COMMON_METADATA).unwrap();
        metadata.response_modes_supported = Some(vec!["query".into()]);
        assert!(check_metadata(&metadata, false).is_ok());
        assert!(matches!(check_metadata(&metadata, true), Err(DiscoveryError::FormPostUnsupported)));
    }
}
