//! Who issues the tokens: Microsoft Entra ID (with its tenant rules) or any OpenID Connect issuer.
//!
//! The two differ in how the issuer is validated. A generic issuer is one exact string (OpenID Connect
//! Discovery §4.3). Entra's multi-tenant authorities (`common`, `organizations`) publish the template
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, which is filled in from each token's `tid` and then
//! compared exactly, never skipped (docs/SECURITY.md §10).

use std::fmt;
use std::net::IpAddr;

use url::Url;

/// Host names of Entra ID's clouds (public, US government, China) and their aliases.
const ENTRA_HOSTS: [&str; 6] = [
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// The tenant of personal Microsoft accounts; its users are not members of `organizations`.
const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

const TENANT_TEMPLATE: &str = "{tenantid}";

/// Why an authority or issuer URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// A space or a control character, which the URL parser would silently drop from a URL that the issuer,
    /// compared as the exact string given, then never matches.
    #[error("{value:?} contains a space or a control character")]
    InvalidCharacter {
        /// The value given.
        value: String,
    },
    /// Not a URL.
    #[error("{value:?} is not a URL: {source}")]
    NotAUrl {
        /// The value given.
        value: String,
        /// Why it did not parse.
        source: url::ParseError,
    },
    /// Plain `http` on a host that is not loopback, or another scheme.
    #[error("{value:?} must use https (plain http is accepted for loopback development only)")]
    NotHttps {
        /// The value given.
        value: String,
    },
    /// A query, fragment or credentials in an issuer URL.
    #[error("{value:?} must not carry a query, a fragment or credentials")]
    Decorated {
        /// The value given.
        value: String,
    },
    /// An Entra host with a path other than `/{tenant}/v2.0`.
    #[error(
        "{value:?} is not an Entra ID v2.0 authority; use https://login.microsoftonline.com/<tenant>/v2.0 \
         where <tenant> is a tenant id, a domain, `common`, `organizations` or `consumers`"
    )]
    NotEntraV2 {
        /// The value given.
        value: String,
    },
}

/// The configured authority.
#[derive(Clone, PartialEq, Eq)]
pub enum Authority {
    /// Microsoft Entra ID (`https://login.microsoftonline.com/{tenant}/v2.0` and the other clouds).
    Entra(EntraAuthority),
    /// Any other OpenID Connect issuer, identified by its exact issuer URL.
    Oidc(OidcIssuer),
}

/// An Entra ID authority: a cloud host and a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraAuthority {
    host: String,
    tenant: EntraTenant,
}

/// The tenant segment of an Entra authority.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntraTenant {
    /// Work, school and personal accounts: issuer template validated against each token's `tid`.
    Common,
    /// Work and school accounts of any tenant: issuer template, personal accounts refused.
    Organizations,
    /// Personal Microsoft accounts only.
    Consumers,
    /// One tenant, by id (a GUID, lowercased) or by one of its domain names.
    Tenant(String),
}

/// A generic OpenID Connect issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIssuer {
    issuer: String,
    url: Url,
}

impl Authority {
    /// Parses `MSAL_AUTHORITY`: an Entra v2.0 authority or an OpenID Connect issuer URL.
    pub fn parse(value: &str) -> Result<Self, AuthorityError> {
        let url = Url::parse(value).map_err(|source| AuthorityError::NotAUrl { value: value.to_owned(), source })?;
        // `https://idp.example ` parses (WHATWG URL trims it) but the issuer keeps the space, and the discovery
        // URL built from the issuer then does not parse.
        if value.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(AuthorityError::InvalidCharacter { value: value.to_owned() });
        }
        check_transport(&url, value)?;
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(AuthorityError::Decorated { value: value.to_owned() });
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if ENTRA_HOSTS.contains(&host.as_str()) {
            let segments: Vec<&str> = url.path().trim_end_matches('/').split('/').skip(1).collect();
            return match segments.as_slice() {
                [tenant, "v2.0"] if !tenant.is_empty() => {
                    Ok(Authority::Entra(EntraAuthority { host, tenant: EntraTenant::parse(tenant) }))
                }
                _ => Err(AuthorityError::NotEntraV2 { value: value.to_owned() }),
            };
        }
        Ok(Authority::Oidc(OidcIssuer { issuer: value.to_owned(), url }))
    }

    /// Whether this is Entra ID, whose dialect (`client_info`, `AADSTS` errors, tenant issuers) applies.
    pub fn is_entra(&self) -> bool {
        matches!(self, Authority::Entra(_))
    }

    /// The OpenID Connect Discovery document's URL (Discovery §4.1: the issuer plus the well-known path).
    pub(crate) fn discovery_url(&self) -> Url {
        let base = match self {
            Authority::Entra(entra) => format!("https://{}/{}/v2.0", entra.host, entra.tenant.segment()),
            Authority::Oidc(oidc) => oidc.issuer.trim_end_matches('/').to_owned(),
        };
        Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .expect("an authority URL plus a fixed path is a URL")
    }

    /// MSAL's `environment` of cache entries: the authority's host (with a port when it is not the default).
    pub(crate) fn environment(&self) -> String {
        match self {
            Authority::Entra(entra) => entra.host.clone(),
            Authority::Oidc(oidc) => {
                let host = oidc.url.host_str().unwrap_or_default();
                match oidc.url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                }
            }
        }
    }

    /// Checks the `issuer` of the discovery document against the configuration and returns the rule
    /// that every token and authorization response is then held to.
    pub(crate) fn issuer_policy(&self, metadata_issuer: &str) -> Result<IssuerPolicy, IssuerMismatch> {
        let mismatch = || IssuerMismatch { expected: self.to_string(), found: metadata_issuer.to_owned() };
        match self {
            Authority::Oidc(oidc) => {
                if metadata_issuer == oidc.issuer {
                    Ok(IssuerPolicy::Exact(metadata_issuer.to_owned()))
                } else {
                    Err(mismatch())
                }
            }
            Authority::Entra(entra) => {
                let (host, tenant) = split_entra_issuer(metadata_issuer).ok_or_else(mismatch)?;
                if !ENTRA_HOSTS.contains(&host) {
                    return Err(mismatch());
                }
                match (&entra.tenant, tenant) {
                    (EntraTenant::Common | EntraTenant::Organizations, TENANT_TEMPLATE) => {
                        Ok(IssuerPolicy::EntraTemplate {
                            template: metadata_issuer.to_owned(),
                            allow_consumers: entra.tenant == EntraTenant::Common,
                        })
                    }
                    (EntraTenant::Common | EntraTenant::Organizations, _) => Err(mismatch()),
                    (_, TENANT_TEMPLATE) => Err(mismatch()),
                    (EntraTenant::Consumers, id) if id == CONSUMERS_TENANT_ID => {
                        Ok(IssuerPolicy::Exact(metadata_issuer.to_owned()))
                    }
                    (EntraTenant::Consumers, _) => Err(mismatch()),
                    // A domain name is resolved by Entra to its tenant id; an id must match exactly.
                    (EntraTenant::Tenant(configured), id)
                        if is_guid(id) && (!is_guid(configured) || configured == id) =>
                    {
                        Ok(IssuerPolicy::Exact(metadata_issuer.to_owned()))
                    }
                    (EntraTenant::Tenant(_), _) => Err(mismatch()),
                }
            }
        }
    }
}

fn check_transport(url: &Url, value: &str) -> Result<(), AuthorityError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(AuthorityError::NotHttps { value: value.to_owned() }),
    }
}

/// Whether a URL's host is loopback: plain http is acceptable there (development, tests).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `https://{host}/{tenant}/v2.0` → (`host`, `tenant`).
fn split_entra_issuer(issuer: &str) -> Option<(&str, &str)> {
    let rest = issuer.strip_prefix("https://")?.strip_suffix("/v2.0")?;
    let (host, tenant) = rest.split_once('/')?;
    (!tenant.is_empty() && !tenant.contains('/')).then_some((host, tenant))
}

/// The host of Entra's v1.0 issuer (`https://{host}/{tid}/`) in the cloud of a v2.0 issuer's host.
fn v1_issuer_host(v2_host: &str) -> Option<&'static str> {
    match v2_host {
        "login.microsoftonline.com" | "login.microsoft.com" | "login.windows.net" => Some("sts.windows.net"),
        "login.microsoftonline.us" => Some("login.microsoftonline.us"),
        "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => Some("sts.chinacloudapi.cn"),
        _ => None,
    }
}

pub(crate) fn is_guid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

impl EntraTenant {
    fn parse(segment: &str) -> Self {
        match segment.to_ascii_lowercase().as_str() {
            "common" => EntraTenant::Common,
            "organizations" => EntraTenant::Organizations,
            "consumers" => EntraTenant::Consumers,
            other => EntraTenant::Tenant(other.to_owned()),
        }
    }

    fn segment(&self) -> &str {
        match self {
            EntraTenant::Common => "common",
            EntraTenant::Organizations => "organizations",
            EntraTenant::Consumers => "consumers",
            EntraTenant::Tenant(tenant) => tenant,
        }
    }
}

impl EntraAuthority {
    /// The cloud host, such as `login.microsoftonline.com`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The tenant.
    pub fn tenant(&self) -> &EntraTenant {
        &self.tenant
    }
}

impl OidcIssuer {
    /// The issuer, exactly as configured.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer as a parsed URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authority::Entra(entra) => write!(f, "https://{}/{}/v2.0", entra.host, entra.tenant.segment()),
            Authority::Oidc(oidc) => f.write_str(&oidc.issuer),
        }
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authority({self})")
    }
}

/// The discovery document or a token names an issuer other than the configured one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issuer mismatch: expected {expected:?}, found {found:?}")]
pub struct IssuerMismatch {
    /// What the configuration allows.
    pub expected: String,
    /// What was presented.
    pub found: String,
}

/// How token and response issuers are checked once discovery has succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuerPolicy {
    /// One issuer, compared as an exact string.
    Exact(String),
    /// Entra's multi-tenant template; `{tenantid}` is filled from the token's `tid`, which must be a GUID.
    EntraTemplate { template: String, allow_consumers: bool },
}

impl IssuerPolicy {
    /// Checks an ID token's `iss`, given its `tid` claim (Entra).
    pub(crate) fn check_token_issuer(&self, iss: &str, tid: Option<&str>) -> Result<(), IssuerMismatch> {
        let expected = match self {
            IssuerPolicy::Exact(issuer) => issuer.clone(),
            IssuerPolicy::EntraTemplate { template, allow_consumers } => match tid {
                Some(tid) if is_guid(tid) && (*allow_consumers || tid != CONSUMERS_TENANT_ID) => {
                    template.replace(TENANT_TEMPLATE, tid)
                }
                // No usable `tid`: nothing can match, not even the literal template.
                _ => return Err(IssuerMismatch { expected: template.clone(), found: iss.to_owned() }),
            },
        };
        if iss == expected { Ok(()) } else { Err(IssuerMismatch { expected, found: iss.to_owned() }) }
    }

    /// Whether the issuer is Entra ID's (v2.0), whose access tokens may also come in the v1.0 format.
    pub(crate) fn is_entra(&self) -> bool {
        match self {
            IssuerPolicy::Exact(issuer) => {
                split_entra_issuer(issuer).is_some_and(|(host, _)| ENTRA_HOSTS.contains(&host))
            }
            IssuerPolicy::EntraTemplate { .. } => true,
        }
    }

    /// Checks an Entra v1.0 access token's `iss` (`https://sts.windows.net/{tid}/` in the public cloud), given
    /// its `tid`: the tenant must be the one of the authority's v2.0 issuer, or for `common` and
    /// `organizations` the token's own `tid` (a GUID, compared exactly once filled in). Personal Microsoft
    /// accounts have no v1.0 tokens: the `consumers` tenant is refused, and so is any issuer that is not Entra.
    pub(crate) fn check_v1_token_issuer(&self, iss: &str, tid: Option<&str>) -> Result<(), IssuerMismatch> {
        let (v2_issuer, tenant) = match self {
            IssuerPolicy::Exact(issuer) => (issuer, split_entra_issuer(issuer).map(|(_, tenant)| tenant)),
            IssuerPolicy::EntraTemplate { template, .. } => (template, tid),
        };
        let expected = split_entra_issuer(v2_issuer)
            .and_then(|(host, _)| v1_issuer_host(host))
            .zip(tenant.filter(|tenant| is_guid(tenant) && *tenant != CONSUMERS_TENANT_ID))
            .map(|(host, tenant)| format!("https://{host}/{tenant}/"));
        match expected {
            Some(expected) if iss == expected => Ok(()),
            Some(expected) => Err(IssuerMismatch { expected, found: iss.to_owned() }),
            None => Err(IssuerMismatch {
                expected: format!("no v1.0 issuer: tokens of {v2_issuer} are v2.0 only"),
                found: iss.to_owned(),
            }),
        }
    }

    /// Checks the `iss` parameter of an authorization response (RFC 9207 §2.4): exact for one issuer; for the
    /// Entra template, any tenant's issuer, and the ID token's own `iss` must then be the same string.
    pub(crate) fn check_response_issuer(&self, iss: &str) -> Result<(), IssuerMismatch> {
        match self {
            IssuerPolicy::Exact(issuer) if iss == issuer => Ok(()),
            IssuerPolicy::EntraTemplate { template, .. } => {
                let (prefix, suffix) = template.split_once(TENANT_TEMPLATE).expect("a template holds {tenantid}");
                match iss.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix)) {
                    Some(tid) if is_guid(tid) => Ok(()),
                    _ => Err(IssuerMismatch { expected: template.clone(), found: iss.to_owned() }),
                }
            }
            IssuerPolicy::Exact(issuer) => Err(IssuerMismatch { expected: issuer.clone(), found: iss.to_owned() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn entra(value: &str) -> EntraAuthority {
        match Authority::parse(value).unwrap() {
            Authority::Entra(entra) => entra,
            other => panic!("{other:?} is not Entra"),
        }
    }

    #[test]
    fn recognises_entra_tenants_and_clouds() {
        assert_eq!(entra("https://login.microsoftonline.com/common/v2.0").tenant, EntraTenant::Common);
        assert_eq!(entra("https://login.microsoftonline.com/Organizations/v2.0/").tenant, EntraTenant::Organizations);
        assert_eq!(entra("https://login.microsoftonline.us/consumers/v2.0").tenant, EntraTenant::Consumers);
        assert_eq!(
            entra(&format!("https://login.microsoftonline.com/{}/v2.0", TID.to_uppercase())).tenant,
            EntraTenant::Tenant(TID.to_owned())
        );
        assert_eq!(
            entra("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").tenant,
            EntraTenant::Tenant("contoso.onmicrosoft.com".to_owned())
        );
        assert_eq!(
            Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap().discovery_url().as_str(),
            "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn refuses_entra_v1_and_bad_urls() {
        for value in [
            "https://login.microsoftonline.com/common",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        ] {
            assert!(matches!(Authority::parse(value), Err(AuthorityError::NotEntraV2 { .. })), "{value}");
        }
        assert!(matches!(Authority::parse("not a url"), Err(AuthorityError::NotAUrl { .. })));
        assert!(matches!(Authority::parse("http://idp.example"), Err(AuthorityError::NotHttps { .. })));
        assert!(matches!(Authority::parse("ftp://idp.example"), Err(AuthorityError::NotHttps { .. })));
        assert!(matches!(Authority::parse("https://idp.example/?x=1"), Err(AuthorityError::Decorated { .. })));
        assert!(Authority::parse("http://127.0.0.1:4000").is_ok());
        assert!(Authority::parse("http://localhost:4000/realms/demo").is_ok());
    }

    #[test]
    fn refuses_spaces_and_control_characters_that_the_url_parser_would_drop() {
        // Found by a property test: the first two parsed, then building their discovery URL panicked; the
        // others parsed as URLs other than the string their tokens' issuer would be compared with.
        for value in ["https://idp.example ", "https://0\0", " https://idp.example", "https://idp.ex\tample/x"] {
            assert!(matches!(Authority::parse(value), Err(AuthorityError::InvalidCharacter { .. })), "{value:?}");
        }
    }

    #[test]
    fn generic_issuer_is_exact() {
        let authority = Authority::parse("https://idp.example/realms/demo").unwrap();
        assert_eq!(
            authority.discovery_url().as_str(),
            "https://idp.example/realms/demo/.well-known/openid-configuration"
        );
        assert_eq!(authority.environment(), "idp.example");
        let policy = authority.issuer_policy("https://idp.example/realms/demo").unwrap();
        assert!(policy.check_token_issuer("https://idp.example/realms/demo", None).is_ok());
        assert!(policy.check_token_issuer("https://idp.example/realms/demo/", None).is_err());
        assert!(policy.check_response_issuer("https://idp.example/realms/other").is_err());
        assert!(authority.issuer_policy("https://idp.example/realms/demo/").is_err());
        assert!(authority.issuer_policy("https://evil.example/realms/demo").is_err());
        assert_eq!(Authority::parse("http://127.0.0.1:4000").unwrap().environment(), "127.0.0.1:4000");
    }

    #[test]
    fn entra_multi_tenant_template_is_validated_against_tid() {
        let authority = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        let policy = authority.issuer_policy("https://login.microsoftonline.com/{tenantid}/v2.0").unwrap();
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert!(policy.check_token_issuer(&iss, Some(TID)).is_ok());
        // The template is never accepted as is, nor filled from another tenant, nor without `tid`.
        assert!(policy.check_token_issuer(&iss, Some("00000000-0000-0000-0000-000000000001")).is_err());
        assert!(policy.check_token_issuer(&iss, None).is_err());
        assert!(
            policy.check_token_issuer("https://login.microsoftonline.com/{tenantid}/v2.0", Some("{tenantid}")).is_err()
        );
        assert!(policy.check_token_issuer("https://evil.example/x/v2.0", Some("x")).is_err());
        assert!(policy.check_response_issuer(&iss).is_ok());
        assert!(policy.check_response_issuer("https://login.microsoftonline.com/not-a-guid/v2.0").is_err());
        // Personal accounts are members of `common` but not of `organizations`.
        let consumers_iss = format!("https://login.microsoftonline.com/{CONSUMERS_TENANT_ID}/v2.0");
        assert!(policy.check_token_issuer(&consumers_iss, Some(CONSUMERS_TENANT_ID)).is_ok());
        let organizations = Authority::parse("https://login.microsoftonline.com/organizations/v2.0").unwrap();
        let policy = organizations.issuer_policy("https://login.microsoftonline.com/{tenantid}/v2.0").unwrap();
        assert!(policy.check_token_issuer(&consumers_iss, Some(CONSUMERS_TENANT_ID)).is_err());
    }

    #[test]
    fn entra_v1_issuers_are_the_same_tenants_as_the_v2_issuer() {
        let v1 = format!("https://sts.windows.net/{TID}/");
        let other = "00000000-0000-0000-0000-000000000001";
        // One tenant (by id, or by a domain that discovery resolved to its id).
        let single = Authority::parse("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").unwrap();
        let policy = single.issuer_policy(&format!("https://login.microsoftonline.com/{TID}/v2.0")).unwrap();
        assert!(policy.is_entra());
        assert!(policy.check_v1_token_issuer(&v1, Some(TID)).is_ok());
        assert!(policy.check_v1_token_issuer(&v1, None).is_ok(), "the configured tenant, whatever `tid` says");
        assert!(policy.check_v1_token_issuer(&format!("https://sts.windows.net/{other}/"), Some(other)).is_err());
        assert!(policy.check_v1_token_issuer(&format!("https://sts.windows.net/{TID}"), Some(TID)).is_err());
        // A v2.0 issuer is not a v1.0 issuer, nor the other way round.
        let v2 = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert!(policy.check_v1_token_issuer(&v2, Some(TID)).is_err());
        assert!(policy.check_token_issuer(&v1, Some(TID)).is_err());
        // Multi-tenant: filled from the token's `tid`, never the template itself, never personal accounts.
        for tenant in ["common", "organizations"] {
            let authority = Authority::parse(&format!("https://login.microsoftonline.com/{tenant}/v2.0")).unwrap();
            let policy = authority.issuer_policy("https://login.microsoftonline.com/{tenantid}/v2.0").unwrap();
            assert!(policy.check_v1_token_issuer(&v1, Some(TID)).is_ok(), "{tenant}");
            assert!(policy.check_v1_token_issuer(&v1, Some(other)).is_err(), "{tenant}");
            assert!(policy.check_v1_token_issuer(&v1, None).is_err(), "{tenant}");
            assert!(policy.check_v1_token_issuer("https://sts.windows.net/{tenantid}/", Some("{tenantid}")).is_err());
            let msa = format!("https://sts.windows.net/{CONSUMERS_TENANT_ID}/");
            assert!(policy.check_v1_token_issuer(&msa, Some(CONSUMERS_TENANT_ID)).is_err(), "{tenant}");
        }
        // Other clouds have their own v1.0 host; a generic issuer has no v1.0 tokens.
        let china = Authority::parse(&format!("https://login.chinacloudapi.cn/{TID}/v2.0")).unwrap();
        let policy = china.issuer_policy(&format!("https://login.chinacloudapi.cn/{TID}/v2.0")).unwrap();
        assert!(policy.check_v1_token_issuer(&format!("https://sts.chinacloudapi.cn/{TID}/"), Some(TID)).is_ok());
        assert!(policy.check_v1_token_issuer(&v1, Some(TID)).is_err());
        let generic = Authority::parse("https://idp.example").unwrap().issuer_policy("https://idp.example").unwrap();
        assert!(!generic.is_entra());
        assert!(generic.check_v1_token_issuer("https://idp.example", None).is_err());
    }

    #[test]
    fn entra_single_tenant_discovery_must_name_that_tenant() {
        let by_id = Authority::parse(&format!("https://login.microsoftonline.com/{TID}/v2.0")).unwrap();
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert_eq!(by_id.issuer_policy(&iss).unwrap(), IssuerPolicy::Exact(iss.clone()));
        assert!(by_id.issuer_policy("https://login.microsoftonline.com/{tenantid}/v2.0").is_err());
        assert!(
            by_id.issuer_policy("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0").is_err()
        );
        let by_domain = Authority::parse("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").unwrap();
        assert!(by_domain.issuer_policy(&iss).is_ok());
        assert!(by_domain.issuer_policy("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0").is_err());
        let consumers = Authority::parse("https://login.microsoftonline.com/consumers/v2.0").unwrap();
        assert!(consumers.issuer_policy(&iss).is_err());
        assert!(
            consumers.issuer_policy(&format!("https://login.microsoftonline.com/{CONSUMERS_TENANT_ID}/v2.0")).is_ok()
        );
        let common = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        assert!(common.issuer_policy(&iss).is_err());
        assert!(common.issuer_policy("https://evil.example/{tenantid}/v2.0").is_err());
    }
}
