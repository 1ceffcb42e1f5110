//! Who signed in: the account derived from a validated ID token, and the key of the user's cache partition.
//!
//! The partition key comes only from validated claims, never from request input (docs/SECURITY.md §19).
//! Entra: MSAL's home account id `uid.utid` from `client_info`, which is not signed, so it must agree with the
//! signed `oid` and `tid`. Other providers: `sub` qualified by the issuer (`sub.<issuer id>`), as `sub` is
//! unique per issuer only. The cache entries themselves carry what MSAL libraries write for such an
//! authority (home account id `sub`, see [`MsalShape`]), so that they can share the cache; the qualified key
//! stays ours, so that two issuers never share a partition.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::provider::authority::Authority;
use crate::provider::id_token::IdTokenClaims;

/// The key of a user's token-cache partition: MSAL's home account id for Entra ID (`uid.utid`), and for
/// other OpenID Connect issuers `sub.<issuer id>` (MSAL's home account id there is `sub` alone, which two
/// issuers may both give; see [`TokenCache::account_key`](crate::TokenCache::account_key)).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HomeAccountId(String);

impl HomeAccountId {
    /// Wraps a partition key, for operations tooling (for example removing a user's tokens); from the home
    /// account id MSAL libraries show, [`TokenCache::account_key`](crate::TokenCache::account_key) makes it.
    /// Requests never choose whose tokens they get: the runtime takes the id from validated claims only.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The key as a string (`uid.utid` for Entra, `sub.<issuer id>` for other issuers).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HomeAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for HomeAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// MSAL's `authority_type` of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AuthorityType {
    /// Entra ID's v2 endpoint, and what this runtime writes for every authority: MSAL Python writes `MSSTS`
    /// for an `oidc_authority` too and lists only `MSSTS` and `ADFS` accounts (`application.py`,
    /// `_find_msal_accounts`); msal-node reads any type.
    #[serde(rename = "MSSTS")]
    MsSts,
    /// What msal-node writes in its OIDC protocol mode (`AccountEntityUtils.createAccountEntity`) and this
    /// runtime wrote for other issuers before: read, never written.
    #[serde(rename = "Generic")]
    Generic,
}

/// The signed-in user as the cache and the session know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountIdentity {
    /// The partition key.
    pub(crate) home_account_id: HomeAccountId,
    /// MSAL's `home_account_id` of the cache entries: the key for Entra, `sub` for other issuers. Absent in
    /// sessions begun before it existed; the key stands in, and the cache rewrites it (`MsalShape::migrate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) msal_home_account_id: Option<String>,
    /// MSAL `environment`: the authority's host.
    pub(crate) environment: String,
    /// MSAL `realm`: the tenant id (Entra) or the first segment of the issuer's path (see [`MsalShape`]).
    pub(crate) realm: String,
    /// MSAL `local_account_id`: `oid` (Entra) or `sub`.
    pub(crate) local_account_id: String,
    /// MSAL `username`: `preferred_username`, `upn` or `email`; empty when none was given.
    pub(crate) username: String,
    pub(crate) name: Option<String>,
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) authority_type: AuthorityType,
    /// The raw `client_info` (Entra), kept for MSAL's Account entry.
    pub(crate) client_info: Option<String>,
    /// Entra's `login_hint` claim, else the username: what to send as `login_hint` later.
    pub(crate) login_hint: Option<String>,
}

/// The account could not be identified from the tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Entra's `client_info` is not base64url JSON with `uid` and `utid`.
    #[error("the provider's client_info is malformed")]
    MalformedClientInfo,
    /// `client_info` names another user or tenant than the signed ID token.
    #[error("the provider's client_info does not match the ID token's oid/tid")]
    ClientInfoMismatch,
    /// An Entra ID token without `oid` or `tid`, and no `client_info` to take them from.
    #[error("the Entra ID token has no oid/tid and no client_info was returned")]
    MissingEntraIds,
}

#[derive(Deserialize)]
struct ClientInfo {
    uid: String,
    utid: String,
}

/// Derives the account from a validated ID token (and Entra's `client_info` from the same token response).
pub(crate) fn identify(
    authority: &Authority,
    claims: &IdTokenClaims,
    client_info: Option<&str>,
) -> Result<AccountIdentity, AccountError> {
    let username = claims
        .preferred_username
        .as_deref()
        .or(claims.upn.as_deref())
        .or(claims.email.as_deref())
        .unwrap_or_default()
        .to_owned();
    let login_hint = claims.login_hint.clone().or_else(|| (!username.is_empty()).then(|| username.clone()));
    let common = |home_account_id: String, msal_home: String, realm: String, local_account_id: String, client_info| {
        AccountIdentity {
            home_account_id: HomeAccountId(home_account_id),
            msal_home_account_id: Some(msal_home),
            environment: MsalShape::of(authority).environment,
            realm,
            local_account_id,
            username: username.clone(),
            name: claims.name.clone(),
            issuer: claims.issuer().to_owned(),
            subject: claims.subject().to_owned(),
            authority_type: AuthorityType::MsSts,
            client_info,
            login_hint: login_hint.clone(),
        }
    };
    if !authority.is_entra() {
        let home = partition_key_of_subject(claims.subject(), claims.issuer());
        let realm = MsalShape::of(authority).realm;
        return Ok(common(home, claims.subject().to_owned(), realm, claims.subject().to_owned(), None));
    }
    let (uid, utid) = match client_info {
        Some(raw) => {
            let info = parse_client_info(raw)?;
            // client_info is not signed: it must agree with the signed claims it stands for.
            if claims.oid.as_deref().is_some_and(|oid| !oid.eq_ignore_ascii_case(&info.uid))
                || claims.tid.as_deref().is_some_and(|tid| !tid.eq_ignore_ascii_case(&info.utid))
            {
                return Err(AccountError::ClientInfoMismatch);
            }
            (info.uid, info.utid)
        }
        None => match (&claims.oid, &claims.tid) {
            (Some(oid), Some(tid)) => (oid.clone(), tid.clone()),
            _ => return Err(AccountError::MissingEntraIds),
        },
    };
    let local = claims.oid.clone().unwrap_or_else(|| uid.clone());
    let home = format!("{uid}.{utid}").to_ascii_lowercase();
    // MSAL's realm is the tenant that issued the tokens (`tid`), which differs from the home tenant (`utid`)
    // for guest users.
    let realm = claims.tid.as_deref().unwrap_or(&utid).to_ascii_lowercase();
    Ok(common(home.clone(), home, realm, local, client_info.map(str::to_owned)))
}

fn parse_client_info(raw: &str) -> Result<ClientInfo, AccountError> {
    // Entra pads client_info with `=`; accept both forms.
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(raw))
        .map_err(|_| AccountError::MalformedClientInfo)?;
    let info: ClientInfo = serde_json::from_slice(&bytes).map_err(|_| AccountError::MalformedClientInfo)?;
    if info.uid.is_empty() || info.utid.is_empty() || !info.uid.is_ascii() || !info.utid.is_ascii() {
        return Err(AccountError::MalformedClientInfo);
    }
    Ok(info)
}

/// A short, stable id of an issuer: 16 hex digits of SHA-256. It qualifies `sub` in the partition keys of
/// other issuers' users, and was the `realm` of their entries before they followed MSAL (still read).
fn issuer_id(issuer: &str) -> String {
    Sha256::digest(issuer.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `sub.<issuer id>`: the partition key of a user of an issuer that is not Entra.
fn partition_key_of_subject(subject: &str, issuer: &str) -> String {
    format!("{subject}.{}", issuer_id(issuer))
}

/// How this app's accounts look in MSAL's cache, and which partition an entry written by an MSAL library
/// belongs to.
///
/// For Entra ID, MSAL's home account id (`uid.utid`) is the partition key. For other issuers, MSAL libraries
/// write what they can derive without `client_info` (msal-python `token_cache.py` `__parse_account`,
/// msal-node `AccountEntityUtils.generateHomeAccountId`): home account id `sub`, environment the authority's
/// host, realm the first segment of its path (msal-node `Authority.tenant`; msal-python takes it from the
/// token endpoint, which lives under the issuer's path). `sub` is unique per issuer only, so the partition key
/// adds the issuer ([`partition_key_of_subject`]), and an entry is only ever taken as this issuer's when its
/// environment is this issuer's host (docs/SECURITY.md §19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsalShape {
    /// MSAL `environment` of this authority's entries.
    pub(crate) environment: String,
    /// MSAL `realm` of a generic issuer's entries (Entra: each token's tenant; unused here).
    pub(crate) realm: String,
    kind: ShapeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ShapeKind {
    /// Entra ID: entries of any host of the same cloud are this authority's (MSAL's instance aliases).
    Entra { aliases: Vec<&'static str> },
    /// Another issuer: `issuer_id` qualifies `sub`; `legacy_environment` is the host with its port, as this
    /// runtime wrote it before (it differs only when the issuer has a port).
    Generic { issuer_id: String, legacy_environment: String },
}

/// Why an MSAL entry is not one of this authority's users'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotOurs {
    /// No home account id: an app-only token (client credentials).
    AppOnly,
    /// Another authority's (its environment).
    OtherAuthority(String),
}

/// Entra's public cloud answers on several hosts, which MSAL treats as one environment (instance discovery's
/// `aliases`).
const ENTRA_PUBLIC_ALIASES: [&str; 4] =
    ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"];

impl MsalShape {
    pub(crate) fn of(authority: &Authority) -> MsalShape {
        match authority {
            Authority::Entra(entra) => {
                let host = entra.host().to_owned();
                let aliases = if ENTRA_PUBLIC_ALIASES.contains(&host.as_str()) {
                    ENTRA_PUBLIC_ALIASES.to_vec()
                } else {
                    Vec::new()
                };
                MsalShape { environment: host, realm: String::new(), kind: ShapeKind::Entra { aliases } }
            }
            Authority::Oidc(oidc) => {
                let url = oidc.url();
                // MSAL Python's and MSAL.NET's environment is the host without its port (msal-python
                // `authority.py` `canonicalize`: `hostname`); msal-node keeps a port that is not the default
                // one. Issuers on the default port, as deployed, are the same to all three.
                let environment = url.host_str().unwrap_or_default().to_ascii_lowercase();
                let realm = url.path_segments().and_then(|mut s| s.find(|s| !s.is_empty())).unwrap_or("").to_owned();
                let kind = ShapeKind::Generic {
                    issuer_id: issuer_id(oidc.issuer()),
                    legacy_environment: authority.environment(),
                };
                MsalShape { environment, realm, kind }
            }
        }
    }

    /// The partition key of the account MSAL libraries call `home_account_id`, found in an entry of
    /// `environment`; `Err` when the entry is no user's of this authority.
    pub(crate) fn partition_key(
        &self,
        home_account_id: Option<&str>,
        environment: &str,
    ) -> Result<HomeAccountId, NotOurs> {
        let home = home_account_id.filter(|home| !home.is_empty()).ok_or(NotOurs::AppOnly)?;
        let environment = environment.to_ascii_lowercase();
        match &self.kind {
            ShapeKind::Entra { aliases } => {
                if environment != self.environment && !aliases.contains(&environment.as_str()) {
                    return Err(NotOurs::OtherAuthority(environment));
                }
                Ok(HomeAccountId(home.to_ascii_lowercase()))
            }
            ShapeKind::Generic { issuer_id, legacy_environment } => {
                if environment != self.environment && environment != *legacy_environment {
                    return Err(NotOurs::OtherAuthority(environment));
                }
                // Written by this runtime before (`sub.<issuer id>`): already the key.
                if self.legacy_subject(home).is_some() {
                    return Ok(HomeAccountId(home.to_owned()));
                }
                Ok(HomeAccountId(format!("{home}.{issuer_id}")))
            }
        }
    }

    /// `sub` of a home account id written as this runtime wrote it before for this issuer (`sub.<issuer id>`).
    pub(crate) fn legacy_subject<'a>(&self, home_account_id: &'a str) -> Option<&'a str> {
        match &self.kind {
            ShapeKind::Generic { issuer_id, .. } => {
                home_account_id.strip_suffix(issuer_id.as_str())?.strip_suffix('.').filter(|sub| !sub.is_empty())
            }
            ShapeKind::Entra { .. } => None,
        }
    }

    /// Old-format fields of this runtime's entries for a generic issuer, rewritten as MSAL writes them:
    /// whether anything changed. Entra entries were always MSAL's.
    pub(crate) fn migrate(
        &self,
        home_account_id: &mut String,
        environment: &mut String,
        realm: Option<&mut String>,
    ) -> bool {
        let ShapeKind::Generic { issuer_id, legacy_environment } = &self.kind else { return false };
        let mut changed = false;
        if let Some(sub) = self.legacy_subject(home_account_id) {
            *home_account_id = sub.to_owned();
            changed = true;
        }
        if environment != &self.environment && environment == legacy_environment {
            *environment = self.environment.clone();
            changed = true;
        }
        if let Some(realm) = realm
            && realm == issuer_id
        {
            *realm = self.realm.clone();
            changed = true;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";
    const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    fn entra() -> Authority {
        Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap()
    }

    fn entra_claims() -> IdTokenClaims {
        IdTokenClaims {
            iss: Some(format!("https://login.microsoftonline.com/{TID}/v2.0")),
            sub: Some("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ".into()),
            oid: Some(OID.into()),
            tid: Some(TID.into()),
            name: Some("Megan Bowen".into()),
            preferred_username: Some("megan@contoso.example".into()),
            login_hint: Some("O.CiQwMDAw".into()),
            ..Default::default()
        }
    }

    fn client_info(uid: &str, utid: &str) -> String {
        // Entra's client_info is padded base64url of {"uid":…,"utid":…}.
        URL_SAFE.encode(format!(r#"{{"uid":"{uid}","utid":"{utid}"}}"#))
    }

    #[test]
    fn entra_accounts_are_keyed_by_uid_utid_from_client_info() {
        let account = identify(&entra(), &entra_claims(), Some(&client_info(OID, TID))).unwrap();
        assert_eq!(account.home_account_id.as_str(), format!("{OID}.{TID}"));
        assert_eq!(account.environment, "login.microsoftonline.com");
        assert_eq!(account.realm, TID);
        assert_eq!(account.local_account_id, OID);
        assert_eq!(account.username, "megan@contoso.example");
        assert_eq!(account.login_hint.as_deref(), Some("O.CiQwMDAw"));
        assert_eq!(account.authority_type, AuthorityType::MsSts);
    }

    #[test]
    fn entra_client_info_must_agree_with_signed_claims() {
        let other = "11111111-1111-1111-1111-111111111111";
        assert_eq!(
            identify(&entra(), &entra_claims(), Some(&client_info(other, TID))),
            Err(AccountError::ClientInfoMismatch)
        );
        assert_eq!(
            identify(&entra(), &entra_claims(), Some(&client_info(OID, other))),
            Err(AccountError::ClientInfoMismatch)
        );
        assert_eq!(identify(&entra(), &entra_claims(), Some("%%%")), Err(AccountError::MalformedClientInfo));
        assert_eq!(
            identify(&entra(), &entra_claims(), Some(&URL_SAFE.encode("{}"))),
            Err(AccountError::MalformedClientInfo)
        );
        // Without client_info, oid.tid from the signed token.
        let account = identify(&entra(), &entra_claims(), None).unwrap();
        assert_eq!(account.home_account_id.as_str(), format!("{OID}.{TID}"));
        let no_ids = IdTokenClaims { oid: None, ..entra_claims() };
        assert_eq!(identify(&entra(), &no_ids, None), Err(AccountError::MissingEntraIds));
    }

    #[test]
    fn other_providers_key_by_subject_and_issuer() {
        let authority = Authority::parse("http://127.0.0.1:4000").unwrap();
        let claims = IdTokenClaims {
            iss: Some("http://127.0.0.1:4000".into()),
            sub: Some("alice".into()),
            email: Some("alice@example.test".into()),
            ..Default::default()
        };
        let account = identify(&authority, &claims, None).unwrap();
        let issuer = issuer_id("http://127.0.0.1:4000");
        assert_eq!(issuer.len(), 16);
        // The partition key is bound to the issuer; the entries carry what MSAL libraries write.
        assert_eq!(account.home_account_id.as_str(), format!("alice.{issuer}"));
        assert_eq!(account.msal_home_account_id.as_deref(), Some("alice"));
        assert_eq!(account.environment, "127.0.0.1");
        assert_eq!(account.realm, "", "an issuer without a path has no tenant segment");
        assert_eq!(account.username, "alice@example.test");
        assert_eq!(account.authority_type, AuthorityType::MsSts);
        // client_info is an Entra feature; another provider's is ignored.
        assert_eq!(identify(&authority, &claims, Some("garbage")).unwrap(), account);
        // The same subject at another issuer is another user.
        let elsewhere = IdTokenClaims { iss: Some("https://idp.example".into()), ..claims };
        assert_ne!(identify(&authority, &elsewhere, None).unwrap().home_account_id, account.home_account_id);
    }

    #[test]
    fn the_realm_of_an_issuer_is_the_first_segment_of_its_path() {
        for (issuer, realm) in [
            ("https://idp.example/idp", "idp"),
            ("https://kc.example/realms/contoso", "realms"),
            ("https://dev-1.okta.example/oauth2/default", "oauth2"),
            ("https://idp.example", ""),
            ("https://idp.example/", ""),
        ] {
            assert_eq!(MsalShape::of(&Authority::parse(issuer).unwrap()).realm, realm, "{issuer}");
        }
        assert_eq!(MsalShape::of(&Authority::parse("https://IdP.example:8443/x").unwrap()).environment, "idp.example");
    }

    #[test]
    fn entries_of_another_issuer_never_land_in_this_issuers_partitions() {
        let here = MsalShape::of(&Authority::parse("https://idp.example/a").unwrap());
        let there = MsalShape::of(&Authority::parse("https://other.example/a").unwrap());
        let alice_here = here.partition_key(Some("alice"), "idp.example").unwrap();
        assert_eq!(alice_here.as_str(), format!("alice.{}", issuer_id("https://idp.example/a")));
        assert_eq!(
            there.partition_key(Some("alice"), "idp.example"),
            Err(NotOurs::OtherAuthority("idp.example".into()))
        );
        assert_ne!(there.partition_key(Some("alice"), "other.example").unwrap(), alice_here);
        // A key written by this runtime before is taken as it is, another issuer's old key is not this one's.
        assert_eq!(here.partition_key(Some(alice_here.as_str()), "idp.example").unwrap(), alice_here);
        let old_there = format!("alice.{}", issuer_id("https://other.example/a"));
        assert_ne!(here.partition_key(Some(&old_there), "idp.example").unwrap().as_str(), old_there);
        assert_eq!(here.partition_key(None, "idp.example"), Err(NotOurs::AppOnly));
        assert_eq!(here.partition_key(Some(""), "idp.example"), Err(NotOurs::AppOnly));
    }

    #[test]
    fn entra_entries_of_an_alias_of_the_cloud_are_this_authoritys() {
        let shape = MsalShape::of(&entra());
        for environment in ["login.microsoftonline.com", "login.windows.net", "LOGIN.MICROSOFT.COM"] {
            assert_eq!(shape.partition_key(Some("UID.UTID"), environment).unwrap().as_str(), "uid.utid");
        }
        assert!(shape.partition_key(Some("uid.utid"), "login.microsoftonline.us").is_err());
    }

    #[test]
    fn old_entries_of_a_generic_issuer_migrate_to_msal_fields() {
        let shape = MsalShape::of(&Authority::parse("http://127.0.0.1:4000/idp").unwrap());
        let issuer = issuer_id("http://127.0.0.1:4000/idp");
        let (mut home, mut environment, mut realm) =
            (format!("alice.{issuer}"), "127.0.0.1:4000".to_owned(), issuer.clone());
        assert!(shape.migrate(&mut home, &mut environment, Some(&mut realm)));
        assert_eq!((home.as_str(), environment.as_str(), realm.as_str()), ("alice", "127.0.0.1", "idp"));
        assert!(!shape.migrate(&mut home, &mut environment, Some(&mut realm)), "once");
        // Entra entries were always MSAL's.
        let (mut home, mut environment) = ("uid.utid".to_owned(), "login.microsoftonline.com".to_owned());
        assert!(!MsalShape::of(&entra()).migrate(&mut home, &mut environment, None));
    }
}
