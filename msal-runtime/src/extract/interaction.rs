//! What "interaction required" (or "not signed in") becomes, by kind of request. This is where a redirect and
//! a 401 are decided between: a page load is redirected to the provider for the missing scopes and comes back
//! to the page; a `fetch()` gets a 401 with a consent URL it can send the window to (a redirect to another
//! origin would only break it, CORS forbidding it to follow); a form POST is redirected and comes back to the
//! page that posted it. A user who was just sent to consent or sign in and still cannot get the token gets an
//! explanation instead of another round trip (see docs/ARCHITECTURE.md, "Consent by kind of request").

use std::fmt;
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{REFERER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use crate::acquire::error::{InteractionReason, InteractionRequired};
use crate::clock::unix_now;
use crate::extract::request_kind::RequestKind;
use crate::msal::Msal;
use crate::provider::account::HomeAccountId;
use crate::scope::set::{Scope, ScopeSet};
use crate::session::store::SessionRecord;
use crate::sign_in::return_url::ReturnUrl;
use crate::sign_in::start::{SignInRequest, sign_in_link};
use crate::web::page::error_page;

/// A session created by a consent or re-authentication less than this long ago that still lacks the
/// scopes it was created for is a loop in the making.
const LOOP_WINDOW: Duration = Duration::from_secs(60);

/// The user must go to the provider (sign in, consent, or satisfy a claims challenge) before the request can
/// get its token: what they would be asked for, and where they come back to.
///
/// Its default response ([`IntoResponse`]) sends a page load or a form post to the provider (starting the
/// sign-in then, not before) and answers a `fetch()` with 401 and [`consent_url`](Self::consent_url). An
/// app that renders its own page (an interstitial, JSON of its own) links to `consent_url` instead.
pub struct Interaction {
    reason: Option<InteractionReason>,
    request_kind: RequestKind,
    scopes: ScopeSet,
    ask_for: ScopeSet,
    return_url: ReturnUrl,
    login_hint: Option<String>,
    claims: Option<String>,
    /// What starting the sign-in needs: the runtime, and the request's headers (its sign-in cookie).
    msal: Msal,
    headers: HeaderMap,
}

impl Interaction {
    /// Why: `None` when nobody is signed in.
    pub fn reason(&self) -> Option<InteractionReason> {
        self.reason
    }

    /// How the request was made, which decides the default response.
    pub fn request_kind(&self) -> RequestKind {
        self.request_kind
    }

    /// The scopes the request needs.
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }

    /// The scopes the provider will be asked for: the request's, and on a standard provider those its current
    /// refresh token covers for the same resource, so that the new one loses none of them.
    pub fn scopes_to_request(&self) -> &ScopeSet {
        &self.ask_for
    }

    /// Where the user comes back to: this page for a page load, the page that posted the form or made the
    /// `fetch()` otherwise (when it is on this site; else the root).
    pub fn return_url(&self) -> &ReturnUrl {
        &self.return_url
    }

    /// The signed-in user's login hint, passed to the provider so that they need not pick their account.
    pub fn login_hint(&self) -> Option<&str> {
        self.login_hint.as_deref()
    }

    /// The claims challenge to pass on (OpenID Connect Core §5.5), when the provider sent one.
    pub fn claims(&self) -> Option<&str> {
        self.claims.as_deref()
    }

    /// A same-origin URL that starts the sign-in or consent when the browser navigates to it:
    /// `/auth/signin?return_url=…&scope=…[&login_hint=…][&claims=…]`.
    pub fn consent_url(&self) -> String {
        sign_in_link(Some(&self.return_url), Some(&self.ask_for), self.login_hint.as_deref(), self.claims.as_deref())
    }

    /// The machine-readable error of the 401 answer: `sign_in_required` or `interaction_required`.
    fn error_code(&self) -> &'static str {
        if self.reason.is_none() { "sign_in_required" } else { "interaction_required" }
    }

    /// 401 for `fetch()`: the consent URL, and an RFC 6750 §3-style challenge so that generic clients can read
    /// it too. The challenge names the scopes the request needs; the URL asks for `scopes_to_request`.
    fn consent_needed(&self) -> Response {
        let consent_url = self.consent_url();
        let error = self.error_code();
        let challenge = format!(
            "Bearer error=\"{error}\", scope=\"{}\", authorization_uri=\"{consent_url}\"",
            self.scopes.to_scope_string()
        );
        let reason = match self.reason {
            Some(reason) => reason.to_string(),
            None => "sign-in required".to_owned(),
        };
        let scopes: Vec<&str> = self.scopes.iter().map(Scope::as_str).collect();
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": error, "reason": reason, "scopes": scopes, "consent_url": consent_url })),
        )
            .into_response();
        if let Ok(challenge) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl IntoResponse for Interaction {
    fn into_response(self) -> Response {
        let Some(sign_in) = self.msal.sign_in() else {
            // A programming error, not the user's: the app asks for a signed-in user's token of a runtime
            // that signs no one in.
            tracing::error!("a handler needs a signed-in user, and the runtime was built without_sign_in()");
            let message = "This part of the app needs a signed-in user, and the app signs no one in.";
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The app is misconfigured", message, None);
        };
        match self.request_kind {
            RequestKind::Fetch => self.consent_needed(),
            RequestKind::Navigation | RequestKind::FormPost => {
                let request = SignInRequest {
                    scopes: Some(&self.ask_for),
                    login_hint: self.login_hint.as_deref(),
                    claims: self.claims.as_deref(),
                    prompt: None,
                };
                sign_in.redirect(&self.headers, self.return_url.clone(), &request)
            }
        }
    }
}

impl fmt::Debug for Interaction {
    /// Without the request's headers, which hold its cookies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interaction")
            .field("reason", &self.reason)
            .field("request_kind", &self.request_kind)
            .field("scopes", &self.scopes)
            .field("scopes_to_request", &self.ask_for)
            .field("return_url", &self.return_url)
            .finish_non_exhaustive()
    }
}

/// The interaction a browser nobody is signed in with needs: signing in, for `scopes`.
pub(crate) fn sign_in_required(msal: &Msal, parts: &Parts, scopes: &ScopeSet) -> Interaction {
    interaction(msal, parts, scopes, scopes.clone(), None, None)
}

/// The interaction a signed-in user needs for `scopes` that silent acquisition could not serve; `None` when
/// they have just been to the provider for these very scopes, and sending them again would loop.
pub(crate) async fn interaction_required(
    msal: &Msal,
    parts: &Parts,
    scopes: &ScopeSet,
    session: &SessionRecord,
    required: InteractionRequired,
) -> Option<Interaction> {
    if just_interacted_for(session, scopes, required.claims.is_some()) {
        return None;
    }
    let ask_for = interaction_scopes(msal, &session.account.home_account_id, scopes).await;
    Some(interaction(msal, parts, scopes, ask_for, Some(session), Some(required)))
}

fn interaction(
    msal: &Msal,
    parts: &Parts,
    scopes: &ScopeSet,
    ask_for: ScopeSet,
    session: Option<&SessionRecord>,
    required: Option<InteractionRequired>,
) -> Interaction {
    let request_kind = RequestKind::of(&parts.method, &parts.headers);
    let return_url = match request_kind {
        RequestKind::Navigation => {
            let here = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            ReturnUrl::parse(here).unwrap_or_else(|_| ReturnUrl::root())
        }
        RequestKind::FormPost | RequestKind::Fetch => referring_page(msal, &parts.headers),
    };
    let (reason, claims) = match (session, required) {
        (None, _) => (None, None),
        (Some(_), Some(required)) => (Some(required.reason), required.claims),
        (Some(_), None) => (Some(InteractionReason::NoCachedTokens), None),
    };
    Interaction {
        reason,
        request_kind,
        scopes: scopes.clone(),
        ask_for,
        return_url,
        login_hint: session.and_then(|session| session.account.login_hint.clone()),
        claims,
        msal: msal.clone(),
        headers: parts.headers.clone(),
    }
}

/// The scopes to ask the provider for when `requested` needs interaction. Entra's refresh tokens cover
/// everything the user consented to, so the missing scopes suffice. A standard provider's refresh token
/// covers only the scopes of its own authorization request: ask again for those the current one covers
/// of the same resource, so that the new one loses none of them (else every expiry would bounce the user
/// between scopes through the provider).
async fn interaction_scopes(msal: &Msal, account: &HomeAccountId, requested: &ScopeSet) -> ScopeSet {
    let config = msal.config();
    if config.authority.is_entra() {
        return requested.clone();
    }
    let covered = match msal.token_cache().load(account).await {
        Ok(Some(stored)) => stored.partition.refresh_token(&config.client_id).and_then(|rt| rt.covered_scopes()),
        _ => None,
    };
    let Some(covered) = covered else { return requested.clone() };
    let resources: Vec<&str> = requested.iter().map(resource_of).collect();
    // Only scopes the sign-in route accepts: the consent URL a script gets goes through it.
    let same_resource = covered
        .without_reserved()
        .iter()
        .filter(|scope| {
            resources.contains(&resource_of(scope)) && msal.sign_in().is_some_and(|sign_in| sign_in.allows(scope))
        })
        .cloned()
        .collect();
    requested.union(&same_resource)
}

/// The page a form was posted from or a `fetch()` was made by, when it is on this site; else the root.
fn referring_page(msal: &Msal, headers: &HeaderMap) -> ReturnUrl {
    let app = msal.config().app_origin();
    headers
        .get(REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| url::Url::parse(referer).ok())
        .filter(|referer| referer.origin() == app)
        .and_then(|referer| {
            let path = match referer.query() {
                Some(query) => format!("{}?{query}", referer.path()),
                None => referer.path().to_owned(),
            };
            ReturnUrl::parse(&path).ok()
        })
        .unwrap_or_else(ReturnUrl::root)
}

/// The resource a scope is for: what precedes its last `/` (`api://contoso` of `api://contoso/Orders.Read`),
/// or nothing for a short name such as `Mail.Read` (the provider's default resource).
fn resource_of(scope: &Scope) -> &str {
    scope.as_str().rfind('/').map_or("", |at| &scope.as_str()[..at])
}

/// Whether `session` was created less than [`LOOP_WINDOW`] ago by a consent or re-authentication for
/// `scopes`, so that sending the user to the provider again would loop. For a claims challenge, only a
/// re-authentication that passed claims on counts: an API may revoke a session a minute after a consent.
fn just_interacted_for(session: &SessionRecord, scopes: &ScopeSet, claims_challenge: bool) -> bool {
    let recent = unix_now().saturating_sub(session.created_at) < LOOP_WINDOW.as_secs();
    recent
        && session
            .interaction_for
            .as_ref()
            .is_some_and(|done| done.scopes.is_superset_of(scopes) && (done.claims || !claims_challenge))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::session::store::Interacted;

    fn session(interaction_for: Option<Interacted>, created_ago: u64) -> SessionRecord {
        let account = crate::cache::partition::tests::identity("alice");
        let created_at = unix_now() - created_ago;
        SessionRecord::new([0; 32], account, created_at, created_at, interaction_for)
    }

    #[test]
    fn a_loop_is_a_fresh_interaction_for_the_same_thing() {
        let mail = ScopeSet::parse("Mail.Read Mail.Send").unwrap();
        let read = ScopeSet::parse("Mail.Read").unwrap();
        let consent = || Some(Interacted { scopes: mail.clone(), claims: false });
        let reauthentication = || Some(Interacted { scopes: mail.clone(), claims: true });

        // Consent again right after a consent for these scopes: a loop.
        assert!(just_interacted_for(&session(consent(), 5), &read, false));
        // A claims challenge right after a consent is not (an API revoked the session meanwhile) ...
        assert!(!just_interacted_for(&session(consent(), 5), &read, true));
        // ... but right after passing claims on, it is.
        assert!(just_interacted_for(&session(reauthentication(), 5), &read, true));
        // Not for other scopes, not after the window, not after a plain sign-in.
        assert!(!just_interacted_for(&session(consent(), 5), &ScopeSet::parse("Calendars.Read").unwrap(), false));
        assert!(!just_interacted_for(&session(consent(), LOOP_WINDOW.as_secs() + 1), &read, false));
        assert!(!just_interacted_for(&session(None, 5), &read, true));
    }

    #[test]
    fn resources_of_scopes() {
        let resource = |scope: &str| resource_of(&Scope::new(scope).unwrap()).to_owned();
        assert_eq!(resource("Mail.Read"), "");
        assert_eq!(resource("api://orders-api/Orders.Read"), "api://orders-api");
        assert_eq!(resource("https://graph.microsoft.com/.default"), "https://graph.microsoft.com");
    }
}
