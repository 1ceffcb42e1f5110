//! Who signed in: the account derived from a validated ID token, and the key of the user's cache partition.
//!
//! The partition key (MSAL's home account id) comes only from validated claims, never from request input
//! (docs/SECURITY.md §19). Entra: `uid.utid` from `client_info`, which is not signed, so it must agree with the
//! signed `oid` and `tid`. Other providers: `sub` qualified by the issuer, as `sub` is unique per issuer only.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::provider::authority::Authority;
use crate::provider::id_token::IdTokenClaims;

/// MSAL's home account id: the key of a user's token-cache partition.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HomeAccountId(String);

impl HomeAccountId {
    /// Wraps an id as MSAL writes it, for operations tooling (for example removing a user's tokens).
    /// Requests never choose whose tokens they get: the runtime takes the id from validated claims only.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The id as MSAL writes it (`uid.utid` for Entra).
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
    /// Entra ID (MSAL's name for the v2 endpoint).
    #[serde(rename = "MSSTS")]
    MsSts,
    /// Any other OpenID Connect provider.
    #[serde(rename = "Generic")]
    Generic,
}

/// The signed-in user as the cache and the session know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountIdentity {
    pub(crate) home_account_id: HomeAccountId,
    /// MSAL `environment`: the authority's host.
    pub(crate) environment: String,
    /// MSAL `realm`: the tenant id (Entra) or the issuer's id.
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
    let common =
        |home_account_id, realm: String, local_account_id: String, authority_type, client_info| AccountIdentity {
            home_account_id: HomeAccountId(home_account_id),
            environment: authority.environment(),
            realm,
            local_account_id,
            username: username.clone(),
            name: claims.name.clone(),
            issuer: claims.issuer().to_owned(),
            subject: claims.subject().to_owned(),
            authority_type,
            client_info,
            login_hint: login_hint.clone(),
        };
    if !authority.is_entra() {
        let realm = issuer_id(claims.issuer());
        let home = format!("{}.{realm}", claims.subject());
        return Ok(common(home, realm, claims.subject().to_owned(), AuthorityType::Generic, None));
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
    Ok(common(home, realm, local, AuthorityType::MsSts, client_info.map(str::to_owned)))
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

/// A short, stable id of an issuer, used as the realm of non-Entra accounts: 16 hex digits of SHA-256.
pub(crate) fn issuer_id(issuer: &str) -> String {
    Sha256::digest(issuer.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect()
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
        let realm = issuer_id("http://127.0.0.1:4000");
        assert_eq!(realm.len(), 16);
        assert_eq!(account.home_account_id.as_str(), format!("alice.{realm}"));
        assert_eq!(account.environment, "127.0.0.1:4000");
        assert_eq!(account.username, "alice@example.test");
        assert_eq!(account.authority_type, AuthorityType::Generic);
        // client_info is an Entra feature; another provider's is ignored.
        assert_eq!(identify(&authority, &claims, Some("garbage")).unwrap(), account);
        // The same subject at another issuer is another user.
        let elsewhere = IdTokenClaims { iss: Some("https://idp.example".into()), ..claims };
        assert_ne!(identify(&authority, &elsewhere, None).unwrap().home_account_id, account.home_account_id);
    }
}
