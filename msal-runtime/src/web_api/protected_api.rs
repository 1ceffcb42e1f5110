//! Web APIs: validating the bearer access tokens that apps send (RFC 6750; JWT access tokens per RFC 9068 and
//! Entra's v1.0 and v2.0 formats). Same discovery, signing keys and JWS verification as sign-in; the
//! access-token rules are here: issuer (per token version on Entra), audience, times, the delegated scopes in
//! `scp` (Entra) or `scope` (RFC 9068), the app roles in `roles`, and whether the caller is a user or an app.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::clock::unix_now;
use crate::provider::authority::{Authority, IssuerPolicy};
#[cfg(feature = "testing")]
use crate::provider::discovery::DiscoveryError;
use crate::provider::discovery::discover;
use crate::provider::http::ProviderHttp;
use crate::provider::id_token::{Audience, DEFAULT_ALGORITHMS, NumericDate};
use crate::provider::jws::{self, JwsError};
use crate::provider::signing_keys::{KeyRefreshPolicy, SigningKeys};
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::web_api::error::{BearerError, ProtectedApiError};

/// How often the API's key set may be fetched again (a token naming an unknown `kid`), and how long a fetched
/// one is kept: the runtime's defaults for the web app's provider.
const KEY_REFRESH: KeyRefreshPolicy =
    KeyRefreshPolicy { min_interval: Duration::from_secs(60), max_age: Duration::from_secs(24 * 3600) };

/// Whether an API is called for a signed-in user or by an app on its own behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallerKind {
    /// A client app calling for a signed-in user (authorization code, on-behalf-of): the user's delegated
    /// scopes are in `scp`/`scope`; `roles`, when present, are the user's own app roles.
    Delegated,
    /// An app calling as itself (client credentials: a daemon, a service): its application permissions (app
    /// roles) are in `roles`, and there is no user.
    App,
}

impl fmt::Display for CallerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallerKind::Delegated => "delegated",
            CallerKind::App => "app-only",
        })
    }
}

/// Who called the API, from a validated access token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    kind: CallerKind,
    subject: String,
    scopes: ScopeSet,
    roles: Vec<String>,
    client_id: Option<String>,
    tenant_id: Option<String>,
    object_id: Option<String>,
    username: Option<String>,
    issued_at: Option<u64>,
    /// The bearer token itself, for an on-behalf-of exchange (RFC 8693 `subject_token`, Entra's `assertion`);
    /// redacted in `Debug`, never exposed.
    assertion: Secret,
}

impl ApiCaller {
    /// Whether a user or an app on its own behalf is calling.
    ///
    /// A token is app-only when it carries no delegated scopes (`scp`, `scope`) and says it is an app's: Entra's
    /// `idtyp: "app"` (an optional claim), or else its subject is the app itself: `sub` equals `oid` (Entra:
    /// the service principal's object id) or the client id (RFC 9068 §2.2 for the client credentials grant).
    /// Anything else is delegated, so a user's token that carries the user's app `roles` is never taken for
    /// an app's. `idtyp: "app"` beside delegated scopes, or an unknown `idtyp`, is refused as malformed.
    pub fn kind(&self) -> CallerKind {
        self.kind
    }

    /// The user (`sub`); for an app-only caller, the app (Entra: its service principal's object id).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the token was issued (`iat`, Unix seconds), when it says: an API that revokes sessions refuses
    /// tokens issued before the revocation with an [`InsufficientClaims`](crate::InsufficientClaims) challenge.
    pub fn issued_at(&self) -> Option<u64> {
        self.issued_at
    }

    /// The delegated scopes granted (`scp` or `scope`); empty for an app-only caller.
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }

    /// The app roles (`roles`): for an app-only caller, the application permissions it was granted; for a
    /// user, the app roles the user is assigned. Compared exactly, as Entra writes them.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether `roles` holds `role` (exactly).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }

    /// The calling app (`azp`, `client_id` or Entra's `appid`).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Entra: the tenant (`tid`).
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// Entra: the user's object id (`oid`), stable across apps of a tenant; for an app-only caller, its
    /// service principal's.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }

    /// The user's sign-in name, for display: `preferred_username` (v2.0 tokens), else Entra v1.0's `upn` or
    /// `unique_name`. Not an identifier: it can change and be reassigned (use [`subject`](Self::subject) or
    /// [`object_id`](Self::object_id)).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The token the caller presented: what an on-behalf-of exchange presents to the provider.
    pub(crate) fn assertion(&self) -> &Secret {
        &self.assertion
    }
}

#[derive(Debug, Deserialize)]
struct AccessTokenClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    /// Entra: space-separated delegated scopes.
    scp: Option<String>,
    /// RFC 9068 §2.2.3.
    scope: Option<String>,
    azp: Option<String>,
    client_id: Option<String>,
    appid: Option<String>,
    tid: Option<String>,
    oid: Option<String>,
    /// Entra: the token format, `1.0` or `2.0`.
    ver: Option<String>,
    /// App roles: an array of strings (Entra, RFC 9068 §2.2.3.1), or one string.
    #[serde(default)]
    roles: Roles,
    /// Entra's optional claim: `app` or `user`.
    idtyp: Option<String>,
    preferred_username: Option<String>,
    /// Entra v1.0.
    upn: Option<String>,
    /// Entra v1.0.
    unique_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Roles {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Roles {
    fn into_vec(self) -> Vec<String> {
        match self {
            Roles::None => Vec::new(),
            Roles::One(one) => vec![one],
            Roles::Many(many) => many,
        }
    }
}

/// See [`ApiCaller::kind`].
fn caller_kind(claims: &AccessTokenClaims, subject: &str, scopes: &ScopeSet) -> Result<CallerKind, BearerError> {
    let delegated = !scopes.is_empty();
    match claims.idtyp.as_deref() {
        Some("app") if delegated => Err(BearerError::CallerKind),
        Some("app") => Ok(CallerKind::App),
        Some("user") => Ok(CallerKind::Delegated),
        Some(_) => Err(BearerError::CallerKind),
        None if delegated => Ok(CallerKind::Delegated),
        None => {
            let is_subject = |claim: &Option<String>| claim.as_deref() == Some(subject);
            let client = claims.azp.as_ref().or(claims.client_id.as_ref()).or(claims.appid.as_ref()).cloned();
            if is_subject(&claims.oid) || is_subject(&client) { Ok(CallerKind::App) } else { Ok(CallerKind::Delegated) }
        }
    }
}

/// Validates bearer tokens for one API (cheap to clone). Handlers take the [`Bearer`](crate::Bearer)
/// extractor, which needs `ProtectedApi: FromRef<S>` for the router's state `S` (axum's convention for library
/// state), so a router that cannot reach the validator does not compile.
#[derive(Clone)]
pub struct ProtectedApi {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    keys: SigningKeys,
    issuer: IssuerPolicy,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    clock_skew: Duration,
}

impl fmt::Debug for ProtectedApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedApi")
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .finish()
    }
}

impl ProtectedApi {
    /// Trusts tokens of `authority` (an issuer URL or an Entra v2.0 authority) whose `aud` is one of
    /// `audiences` (Entra: the API's application id URI, the audience of v1.0 tokens, and/or its client id,
    /// the audience of v2.0 tokens). With Entra, v1.0 access tokens (`ver: "1.0"`, issuer
    /// `https://sts.windows.net/{tid}/`) of the same tenants are accepted too.
    pub async fn new(authority: &str, audiences: &[&str]) -> Result<Self, ProtectedApiError> {
        let authority = Authority::parse(authority).map_err(ProtectedApiError::Authority)?;
        if audiences.iter().all(|audience| audience.trim().is_empty()) {
            return Err(ProtectedApiError::NoAudience);
        }
        let http = ProviderHttp::new(Duration::from_secs(10)).map_err(ProtectedApiError::HttpClient)?;
        let discovered = discover(&http, &authority, false).await?;
        let keys = SigningKeys::fetch(http, discovered.metadata.jwks_uri.clone(), KEY_REFRESH).await?;
        Ok(Self::trusting(keys, discovered.issuer, audiences))
    }

    /// An API trusting `authority` with the given metadata instead of discovering it, its keys fetched from
    /// `metadata.jwks_uri` when a token first names one: the in-memory provider of the `testing` feature.
    #[cfg(feature = "testing")]
    pub(crate) fn described(
        authority: &Authority,
        metadata: &crate::provider::discovery::ProviderMetadata,
        audiences: &[&str],
    ) -> Result<Self, ProtectedApiError> {
        let issuer = authority.issuer_policy(&metadata.issuer).map_err(DiscoveryError::from)?;
        let http = ProviderHttp::new(Duration::from_secs(10)).map_err(ProtectedApiError::HttpClient)?;
        let keys = SigningKeys::not_fetched(http, metadata.jwks_uri.clone(), KEY_REFRESH);
        Ok(Self::trusting(keys, issuer, audiences))
    }

    fn trusting(keys: SigningKeys, issuer: IssuerPolicy, audiences: &[&str]) -> Self {
        Self {
            inner: Arc::new(ApiInner {
                keys,
                issuer,
                audiences: audiences.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect(),
                algorithms: DEFAULT_ALGORITHMS.to_vec(),
                clock_skew: Duration::from_secs(120),
            }),
        }
    }

    /// Validates a bearer access token.
    pub async fn validate(&self, token: &str) -> Result<ApiCaller, BearerError> {
        let inner = &self.inner;
        let (header, mut claims) = jws::verify::<AccessTokenClaims>(token, &inner.keys, &inner.algorithms)
            .await
            .map_err(|error| match error {
                JwsError::Malformed => BearerError::Malformed,
                _ => BearerError::Signature,
            })?;
        // RFC 9068 §2.1 types access tokens `at+jwt`; Entra writes `JWT`. Anything else (an ID token
        // declaring itself, a logout token) is not accepted as an access token.
        if let Some(typ) = header.typ.as_deref()
            && !["at+jwt", "application/at+jwt", "jwt"].contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(BearerError::NotAnAccessToken);
        }
        let iss = claims.iss.as_deref().ok_or(BearerError::MissingClaim("iss"))?;
        // Entra issues v1.0 access tokens (`https://sts.windows.net/{tid}/`) to every API whose registration
        // keeps the default `accessTokenAcceptedVersion`, and v2.0 ones (the authority's issuer) to the others;
        // each version is held to its own issuer, never the other's.
        match (inner.issuer.is_entra(), claims.ver.as_deref()) {
            (true, Some("1.0")) => inner.issuer.check_v1_token_issuer(iss, claims.tid.as_deref()),
            (true, Some("2.0") | None) | (false, _) => inner.issuer.check_token_issuer(iss, claims.tid.as_deref()),
            (true, Some(_)) => return Err(BearerError::Version),
        }
        .map_err(BearerError::Issuer)?;
        if !claims.aud.values().iter().any(|aud| inner.audiences.contains(aud)) {
            return Err(BearerError::Audience);
        }
        let now = unix_now() as i64;
        let skew = inner.clock_skew.as_secs() as i64;
        let exp = claims.exp.ok_or(BearerError::MissingClaim("exp"))?;
        let not_yet = |date: Option<NumericDate>| date.is_some_and(|date| date.0 > now + skew);
        if exp.0 + skew <= now || not_yet(claims.nbf) || not_yet(claims.iat) {
            return Err(BearerError::Lifetime);
        }
        let subject = claims.sub.take().filter(|sub| !sub.is_empty()).ok_or(BearerError::MissingClaim("sub"))?;
        let scopes = claims
            .scp
            .as_deref()
            .or(claims.scope.as_deref())
            .map(|scopes| ScopeSet::parse(scopes).map_err(|_| BearerError::Malformed))
            .transpose()?
            .unwrap_or_default();
        let kind = caller_kind(&claims, &subject, &scopes)?;
        Ok(ApiCaller {
            kind,
            subject,
            scopes,
            roles: claims.roles.into_vec(),
            client_id: claims.azp.or(claims.client_id).or(claims.appid),
            tenant_id: claims.tid,
            object_id: claims.oid,
            username: claims.preferred_username.or(claims.upn).or(claims.unique_name),
            issued_at: claims.iat.map(|iat| iat.0.max(0) as u64),
            assertion: Secret::new(token),
        })
    }

    #[cfg(test)]
    pub(crate) fn for_tests(keys: SigningKeys, issuer: IssuerPolicy, audiences: &[&str]) -> Self {
        Self {
            inner: Arc::new(ApiInner {
                keys,
                issuer,
                audiences: audiences.iter().map(|a| a.to_string()).collect(),
                algorithms: DEFAULT_ALGORITHMS.to_vec(),
                clock_skew: Duration::from_secs(60),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::id_token::tests::{ISSUER, changed, default_keys, rsa_a, sign};
    use serde_json::{Value, json};

    fn api() -> ProtectedApi {
        let policy = Authority::parse(ISSUER).unwrap().issuer_policy(ISSUER).unwrap();
        ProtectedApi::for_tests(default_keys(), policy, &["api://mail-api"])
    }

    fn claims(changes: Value) -> Value {
        let now = unix_now() as i64;
        let claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": "api://mail-api", "exp": now + 600, "iat": now,
            "scope": "Mail.Read", "client_id": "mail-app"
        });
        changed(claims, changes)
    }

    fn token(typ: Option<&str>, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("a".into());
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &rsa_a()).unwrap()
    }

    fn validate(token: &str) -> Result<ApiCaller, BearerError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(api().validate(token))
    }

    #[test]
    fn accepts_rfc9068_and_entra_access_tokens() {
        let caller = validate(&token(Some("at+jwt"), &claims(json!({})))).unwrap();
        assert_eq!(caller.subject(), "alice");
        assert_eq!(caller.scopes(), &ScopeSet::parse("Mail.Read").unwrap());
        assert_eq!(caller.client_id(), Some("mail-app"));
        let entra = claims(json!({"scope": null, "scp": "Mail.Read Mail.Send", "azp": "app-guid", "client_id": null}));
        let caller = validate(&token(Some("JWT"), &entra)).unwrap();
        assert_eq!(caller.scopes().len(), 2);
        assert_eq!(caller.client_id(), Some("app-guid"));
    }

    #[test]
    fn refuses_what_is_not_an_access_token_for_this_api() {
        assert_eq!(
            validate(&token(Some("id_token+jwt"), &claims(json!({})))).unwrap_err(),
            BearerError::NotAnAccessToken
        );
        assert_eq!(validate(&token(None, &claims(json!({"aud": "mail-app"})))).unwrap_err(), BearerError::Audience);
        assert!(matches!(
            validate(&token(None, &claims(json!({"iss": "https://evil.example"})))),
            Err(BearerError::Issuer(_))
        ));
        let now = unix_now() as i64;
        assert_eq!(validate(&token(None, &claims(json!({"exp": now - 3600})))).unwrap_err(), BearerError::Lifetime);
        assert_eq!(validate(&token(None, &claims(json!({"nbf": now + 3600})))).unwrap_err(), BearerError::Lifetime);
        assert_eq!(
            validate(&token(None, &claims(json!({"sub": null})))).unwrap_err(),
            BearerError::MissingClaim("sub")
        );
        assert_eq!(validate("not.a.token").unwrap_err(), BearerError::Malformed);
        let forged =
            sign(Algorithm::HS256, Some("a"), &jsonwebtoken::EncodingKey::from_secret(b"k"), &claims(json!({})));
        assert_eq!(validate(&forged).unwrap_err(), BearerError::Signature);
    }

    #[test]
    fn tells_app_only_callers_from_delegated_ones_by_their_subject() {
        // RFC 9068 §2.2: the client credentials grant's token names the client as its subject, with no scope.
        let app = claims(
            json!({"sub": "mail-daemon", "client_id": "mail-daemon", "scope": null, "roles": ["Mail.Read.All"]}),
        );
        let caller = validate(&token(Some("at+jwt"), &app)).unwrap();
        assert_eq!(caller.kind(), CallerKind::App);
        assert_eq!(caller.roles(), ["Mail.Read.All"]);
        assert!(caller.scopes().is_empty());
        // The same with scopes is a user's (whatever its subject), and a user's roles are the user's.
        let with_scope = changed(app.clone(), json!({"scope": "Mail.Read"}));
        assert_eq!(validate(&token(None, &with_scope)).unwrap().kind(), CallerKind::Delegated);
        let user_roles = claims(json!({"scope": null, "roles": "Mail.Read.All"}));
        let caller = validate(&token(None, &user_roles)).unwrap();
        assert_eq!((caller.kind(), caller.roles()), (CallerKind::Delegated, &["Mail.Read.All".to_owned()][..]));
        assert_eq!(validate(&token(None, &claims(json!({"roles": 7})))).unwrap_err(), BearerError::Malformed);
    }
}

/// Entra's access tokens in the shapes Entra issues them (claims as recorded from real tokens; ids, names and
/// opaque values replaced), signed with the test keys, for an API trusting one tenant's v2.0 authority.
#[cfg(test)]
mod entra_shapes {
    use super::*;
    use crate::provider::id_token::tests::{changed, default_keys, rsa_a};
    use serde_json::{Value, json};

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER_TID: &str = "00000000-0000-0000-0000-000000000001";
    /// The API's client id (the v2.0 audience) and application id URI (the v1.0 audience).
    const API_CLIENT_ID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    const API_ID_URI: &str = "api://mail-api";
    const WEB_APP: &str = "2d4d11a2-f814-46a7-890a-274a72a7309e";
    const DAEMON: &str = "9b1d3f4c-6f1e-4a27-8d3b-1c2e5f6a7b8c";
    const DAEMON_SP: &str = "0f8d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
    const USER_OID: &str = "690222be-ff1a-4d56-abd1-7e4f7d38e474";

    fn v1_issuer(tid: &str) -> String {
        format!("https://sts.windows.net/{tid}/")
    }

    fn v2_issuer(tid: &str) -> String {
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    }

    fn api_for(authority: &str, metadata_issuer: &str) -> ProtectedApi {
        let policy = Authority::parse(authority).unwrap().issuer_policy(metadata_issuer).unwrap();
        ProtectedApi::for_tests(default_keys(), policy, &[API_ID_URI, API_CLIENT_ID])
    }

    fn single_tenant() -> ProtectedApi {
        api_for(&v2_issuer(TID), &v2_issuer(TID))
    }

    fn times() -> Value {
        let now = unix_now() as i64;
        json!({"iat": now - 60, "nbf": now - 60, "exp": now + 3600})
    }

    fn with_times(claims: Value) -> Value {
        changed(claims, times())
    }

    /// A user signed in to the web app, calling an API that keeps the default token version.
    fn v1_delegated() -> Value {
        with_times(json!({
            "aud": API_ID_URI, "iss": v1_issuer(TID), "acr": "1", "aio": "AVQAq/8TAAAA", "amr": ["pwd", "mfa"],
            "appid": WEB_APP, "appidacr": "1", "family_name": "Example", "given_name": "Alice", "ipaddr": "203.0.113.7",
            "name": "Alice Example", "oid": USER_OID, "rh": "0.AXEAv4j5cvGGr0GRqy180BHbR.", "scp": "Mail.Read Mail.Send",
            "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": TID, "unique_name": "alice@contoso.example",
            "upn": "alice@contoso.example", "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0"
        }))
    }

    /// A daemon with the client credentials grant, v1.0 format: `roles`, `appid`, no `scp`, `sub` = `oid`.
    fn v1_app() -> Value {
        with_times(json!({
            "aud": API_ID_URI, "iss": v1_issuer(TID), "aio": "E2ZgYJh8u9Hj", "appid": DAEMON, "appidacr": "1",
            "idp": v1_issuer(TID), "oid": DAEMON_SP, "rh": "0.AXEAv4j5cvGGr0GRqy180BHbR.", "roles": ["Mail.Read.All"],
            "sub": DAEMON_SP, "tid": TID, "uti": "gXQ2HHl6A0GcvDbWrrZPAA", "ver": "1.0"
        }))
    }

    /// A daemon, v2.0 format, with the `idtyp` optional claim configured.
    fn v2_app() -> Value {
        with_times(json!({
            "aud": API_CLIENT_ID, "iss": v2_issuer(TID), "aio": "E2ZgYJh8u9Hj", "azp": DAEMON, "azpacr": "1",
            "idtyp": "app", "oid": DAEMON_SP, "rh": "0.AXEAv4j5cvGGr0GRqy180BHbR.", "roles": ["Mail.Read.All", "Mail.Send.All"],
            "sub": DAEMON_SP, "tid": TID, "uti": "gXQ2HHl6A0GcvDbWrrZPAA", "ver": "2.0"
        }))
    }

    /// A user assigned the app role `Mail.Read.All` (a user's role, not an application permission), v2.0.
    fn v2_delegated_with_user_roles() -> Value {
        with_times(json!({
            "aud": API_CLIENT_ID, "iss": v2_issuer(TID), "aio": "AVQAq/8TAAAA", "azp": WEB_APP, "azpacr": "1",
            "name": "Alice Example", "oid": USER_OID, "preferred_username": "alice@contoso.example",
            "rh": "0.AXEAv4j5cvGGr0GRqy180BHbR.", "roles": ["Mail.Read.All"], "scp": "Mail.Read",
            "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": TID, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0"
        }))
    }

    fn token(claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("a".into());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &rsa_a()).unwrap()
    }

    fn validate_with(api: &ProtectedApi, claims: &Value) -> Result<ApiCaller, BearerError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(api.validate(&token(claims)))
    }

    fn validate(claims: &Value) -> Result<ApiCaller, BearerError> {
        validate_with(&single_tenant(), claims)
    }

    #[test]
    fn accepts_v1_delegated_tokens() {
        let caller = validate(&v1_delegated()).unwrap();
        assert_eq!(caller.kind(), CallerKind::Delegated);
        assert_eq!(caller.scopes(), &ScopeSet::parse("Mail.Read Mail.Send").unwrap());
        assert_eq!(caller.client_id(), Some(WEB_APP), "appid");
        assert_eq!(caller.username(), Some("alice@contoso.example"), "upn");
        assert_eq!((caller.object_id(), caller.tenant_id()), (Some(USER_OID), Some(TID)));
        let unique_name_only =
            changed(v1_delegated(), json!({"upn": null, "unique_name": "live.com#bob@example.test"}));
        assert_eq!(validate(&unique_name_only).unwrap().username(), Some("live.com#bob@example.test"));
    }

    #[test]
    fn accepts_app_only_tokens_of_both_versions() {
        for (shape, claims) in [("v1", v1_app()), ("v2 with idtyp", v2_app())] {
            let caller = validate(&claims).unwrap();
            assert_eq!(caller.kind(), CallerKind::App, "{shape}");
            assert!(caller.has_role("Mail.Read.All"), "{shape}");
            assert!(!caller.has_role("mail.read.all"), "{shape}: roles compare exactly");
            assert!(caller.scopes().is_empty(), "{shape}");
            assert_eq!((caller.client_id(), caller.subject()), (Some(DAEMON), DAEMON_SP), "{shape}");
            assert_eq!(caller.username(), None, "{shape}");
        }
        // Without `idtyp` (the default registration), `sub` = `oid` says it.
        let caller = validate(&changed(v2_app(), json!({"idtyp": null}))).unwrap();
        assert_eq!(caller.kind(), CallerKind::App);
        // An app granted no role still has an app-only token: it is the extractors that refuse it.
        let caller = validate(&changed(v1_app(), json!({"roles": null}))).unwrap();
        assert_eq!((caller.kind(), caller.roles().len()), (CallerKind::App, 0));
    }

    #[test]
    fn a_users_app_roles_do_not_make_an_app_only_caller() {
        let caller = validate(&v2_delegated_with_user_roles()).unwrap();
        assert_eq!(caller.kind(), CallerKind::Delegated);
        assert!(caller.has_role("Mail.Read.All"));
        let said = changed(v2_delegated_with_user_roles(), json!({"idtyp": "user"}));
        assert_eq!(validate(&said).unwrap().kind(), CallerKind::Delegated);
        // `idtyp: user` is believed over `sub` = `oid`.
        let user = changed(v2_app(), json!({"idtyp": "user"}));
        assert_eq!(validate(&user).unwrap().kind(), CallerKind::Delegated);
        // Contradictions and unknown types are refused rather than guessed.
        let both = changed(v2_delegated_with_user_roles(), json!({"idtyp": "app"}));
        assert_eq!(validate(&both).unwrap_err(), BearerError::CallerKind);
        assert_eq!(validate(&changed(v2_app(), json!({"idtyp": "device"}))).unwrap_err(), BearerError::CallerKind);
    }

    #[test]
    fn each_version_is_held_to_its_own_issuer() {
        let mismatch = |claims: &Value| matches!(validate(claims), Err(BearerError::Issuer(_)));
        assert!(mismatch(&changed(v1_delegated(), json!({"iss": v2_issuer(TID)}))), "ver 1.0 with a v2.0 issuer");
        assert!(mismatch(&changed(v2_app(), json!({"iss": v1_issuer(TID)}))), "ver 2.0 with a v1.0 issuer");
        assert!(mismatch(&changed(v1_app(), json!({"ver": null}))), "a v1.0 issuer without `ver`");
        assert!(validate(&changed(v2_app(), json!({"ver": null}))).is_ok(), "a v2.0 issuer without `ver`");
        assert_eq!(validate(&changed(v1_app(), json!({"ver": "3.0"}))).unwrap_err(), BearerError::Version);
        // Another tenant, whatever its token says of itself; a v1.0 token is no exception.
        let other = json!({"iss": v1_issuer(OTHER_TID), "tid": OTHER_TID});
        assert!(mismatch(&changed(v1_delegated(), other.clone())));
        assert!(mismatch(&changed(v1_app(), json!({"iss": v1_issuer(OTHER_TID)}))));
        assert!(mismatch(&changed(v1_app(), json!({"iss": "https://sts.windows.net/contoso.example/"}))));
        // The audience rules do not change with the version.
        assert_eq!(validate(&changed(v1_app(), json!({"aud": "api://other"}))).unwrap_err(), BearerError::Audience);
        assert!(validate(&changed(v1_app(), json!({"aud": API_CLIENT_ID}))).is_ok());
    }

    #[test]
    fn multi_tenant_apis_fill_the_v1_issuer_from_tid() {
        for tenant in ["organizations", "common"] {
            let api = api_for(&format!("https://login.microsoftonline.com/{tenant}/v2.0"), &v2_issuer("{tenantid}"));
            assert!(validate_with(&api, &v1_delegated()).is_ok(), "{tenant}");
            assert!(validate_with(&api, &v2_app()).is_ok(), "{tenant}");
            let elsewhere = changed(v1_app(), json!({"iss": v1_issuer(OTHER_TID), "tid": OTHER_TID}));
            assert_eq!(validate_with(&api, &elsewhere).unwrap().tenant_id(), Some(OTHER_TID), "{tenant}");
            // `tid` and `iss` must name the same tenant, and the template is never accepted as such.
            let split = changed(v1_app(), json!({"tid": OTHER_TID}));
            assert!(matches!(validate_with(&api, &split), Err(BearerError::Issuer(_))), "{tenant}");
            let template = changed(v1_app(), json!({"iss": v1_issuer("{tenantid}"), "tid": "{tenantid}"}));
            assert!(matches!(validate_with(&api, &template), Err(BearerError::Issuer(_))), "{tenant}");
        }
        // Generic OpenID Connect issuers have no v1.0 format: `ver` is not read.
        let generic = api_for("https://idp.example", "https://idp.example");
        let claims = changed(v1_app(), json!({"iss": "https://idp.example", "ver": "7"}));
        assert_eq!(validate_with(&generic, &claims).unwrap().kind(), CallerKind::App);
    }
}
