//! What "interaction required" (or "not signed in") becomes, by kind of request (DESIGN.md §Silent acquisition
//! and consent): a page load is redirected to the provider for the missing scopes and comes back to the page;
//! a `fetch()` gets a 401 with a consent URL it can send the window to (a redirect to another origin would
//! only break it, CORS forbidding it to follow); a form POST is redirected and comes back to the page that
//! posted it. A user who was just sent to consent or sign in and still cannot get the token gets an
//! explanation instead of another round trip.

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{REFERER, RETRY_AFTER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::json;

use crate::acquire::{AcquireError, InteractionReason, InteractionRequired};
use crate::clock::unix_now;
use crate::extract::{TokenRejection, TokenRejectionReason};
use crate::msal::{Msal, SIGN_IN_PATH};
use crate::provider::account::HomeAccountId;
use crate::scope::set::{Scope, ScopeSet};
use crate::session::store::SessionRecord;
use crate::sign_in::return_url::ReturnUrl;
use crate::sign_in::start::SignInRequest;
use crate::web::error_page::error_page;

/// A session created by a consent or re-authentication less than this long ago that still lacks the
/// scopes it was created for is a loop in the making.
const LOOP_WINDOW: Duration = Duration::from_secs(60);

/// How the browser made the request, which decides what response it can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// A page load: follows redirects, shows pages.
    Navigation,
    /// A form submitted by navigation: redirected, it cannot be replayed, so it returns to its form page.
    FormPost,
    /// `fetch()` or XHR: needs a status and JSON it can act on.
    Fetch,
}

impl RequestKind {
    /// `Sec-Fetch-Mode` when the browser sends it; otherwise `X-Requested-With` or a JSON `Accept`.
    pub(crate) fn of(method: &Method, headers: &HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let scripted = headers.contains_key("x-requested-with")
            || match header("sec-fetch-mode") {
                Some(mode) => !mode.eq_ignore_ascii_case("navigate"),
                None => header("accept").is_some_and(prefers_json),
            };
        match (scripted, method) {
            (true, _) => RequestKind::Fetch,
            (false, &Method::GET | &Method::HEAD) => RequestKind::Navigation,
            (false, _) => RequestKind::FormPost,
        }
    }
}

fn prefers_json(accept: &str) -> bool {
    let accept = accept.to_ascii_lowercase();
    (accept.contains("application/json") || accept.contains("+json")) && !accept.contains("text/html")
}

impl Msal {
    /// The response for a request needing a token for `scopes` that silent acquisition could not provide.
    pub(crate) async fn token_rejection(
        &self,
        parts: &Parts,
        scopes: &ScopeSet,
        session: &SessionRecord,
        error: AcquireError,
    ) -> TokenRejection {
        let kind = RequestKind::of(&parts.method, &parts.headers);
        let (reason, status, title, message, retry_after) = match error {
            AcquireError::InteractionRequired(required) => {
                let ask_for = self.interaction_scopes(&session.account.home_account_id, scopes).await;
                return self.interaction(parts, scopes, &ask_for, Some(session), Some(&required));
            }
            AcquireError::ProviderUnavailable { retry_after } => (
                TokenRejectionReason::ProviderUnavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "The identity provider is unavailable",
                "The sign-in service did not answer. Please try again in a moment.".to_owned(),
                retry_after,
            ),
            AcquireError::Refused(error) => (
                TokenRejectionReason::ProviderRefused,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The app is misconfigured",
                format!("The identity provider refused the app's token request ({}).", error.error),
                None,
            ),
            AcquireError::InvalidResponse(error) => (
                TokenRejectionReason::InvalidProviderResponse,
                StatusCode::BAD_GATEWAY,
                "The identity provider's answer was unusable",
                format!("The identity provider sent an unusable response: {error}."),
                None,
            ),
            AcquireError::Cache(error) => (
                TokenRejectionReason::CacheUnavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "Your session is temporarily unavailable",
                format!("{error}. Please try again in a moment."),
                None,
            ),
        };
        tracing::warn!(reason = ?reason, home_account_id = %session.account.home_account_id, "no token for the request");
        let mut response = failure(kind, status, title, &message);
        if let Some(wait) = retry_after {
            let seconds = wait.as_secs().max(1).to_string();
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_str(&seconds).expect("digits"));
        }
        TokenRejection::new(reason, response)
    }

    /// The scopes to ask the provider for when `requested` needs interaction. Entra's refresh tokens cover
    /// everything the user consented to, so the missing scopes suffice. A standard provider's refresh token
    /// covers only the scopes of its own authorization request: ask again for those the current one covers
    /// of the same resource, so that the new one loses none of them (else every expiry would bounce the user
    /// between scopes through the provider).
    async fn interaction_scopes(&self, account: &HomeAccountId, requested: &ScopeSet) -> ScopeSet {
        if self.inner.config.authority.is_entra() {
            return requested.clone();
        }
        let covered = match self.inner.cache.load(account).await {
            Ok(Some(stored)) => {
                stored.partition.refresh_token(&self.inner.config.client_id).and_then(|rt| rt.covered_scopes())
            }
            _ => None,
        };
        let Some(covered) = covered else { return requested.clone() };
        let resources: Vec<&str> = requested.iter().map(resource_of).collect();
        let same_resource = covered
            .without_reserved()
            .iter()
            .filter(|scope| resources.contains(&resource_of(scope)))
            .cloned()
            .collect();
        requested.union(&same_resource)
    }

    /// Sends the user to sign in or consent for `ask_for` in the way this request can follow; `scopes` are
    /// what the request itself needs (the loop guard's measure).
    pub(crate) fn interaction(
        &self,
        parts: &Parts,
        scopes: &ScopeSet,
        ask_for: &ScopeSet,
        session: Option<&SessionRecord>,
        required: Option<&InteractionRequired>,
    ) -> TokenRejection {
        let kind = RequestKind::of(&parts.method, &parts.headers);
        let reason = match (session, required) {
            (None, _) => TokenRejectionReason::SignInRequired,
            (Some(_), Some(required)) => TokenRejectionReason::InteractionRequired(required.reason),
            (Some(_), None) => TokenRejectionReason::InteractionRequired(InteractionReason::NoCachedTokens),
        };
        if let Some(session) = session
            && just_interacted_for(session, scopes)
        {
            return self.loop_stopped(kind, scopes, session, reason);
        }
        let request = SignInRequest {
            scopes: Some(ask_for),
            login_hint: session.and_then(|session| session.account.login_hint.as_deref()),
            claims: required.and_then(|required| required.claims.as_deref()),
            prompt: None,
        };
        let response = match kind {
            RequestKind::Navigation => {
                let here = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
                let return_url = ReturnUrl::parse(here).unwrap_or_else(|_| ReturnUrl::root());
                self.redirect_to_sign_in(&parts.headers, return_url, &request)
            }
            RequestKind::FormPost => {
                self.redirect_to_sign_in(&parts.headers, self.referring_page(&parts.headers), &request)
            }
            RequestKind::Fetch => self.consent_needed(&parts.headers, scopes, &request, &reason),
        };
        TokenRejection::new(reason, response)
    }

    /// 401 for `fetch()`: a same-origin URL that starts the sign-in when the page navigates to it. The
    /// challenge names the scopes the request needs; the URL asks for the request's (see `interaction_scopes`).
    fn consent_needed(
        &self,
        headers: &HeaderMap,
        scopes: &ScopeSet,
        request: &SignInRequest<'_>,
        reason: &TokenRejectionReason,
    ) -> Response {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("return_url", self.referring_page(headers).as_str());
        if let Some(ask_for) = request.scopes.filter(|ask_for| !ask_for.is_empty()) {
            query.append_pair("scope", &ask_for.to_scope_string());
        }
        if let Some(login_hint) = request.login_hint {
            query.append_pair("login_hint", login_hint);
        }
        if let Some(claims) = request.claims {
            query.append_pair("claims", claims);
        }
        let consent_url = format!("{SIGN_IN_PATH}?{}", query.finish());
        let error = match reason {
            TokenRejectionReason::SignInRequired => "sign_in_required",
            _ => "interaction_required",
        };
        // RFC 6750 §3-style parameters, so that generic clients can read the challenge too.
        let challenge = format!(
            "Bearer error=\"{error}\", scope=\"{}\", authorization_uri=\"{consent_url}\"",
            scopes.to_scope_string()
        );
        let scopes: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": error, "reason": reason.to_string(), "scopes": scopes, "consent_url": consent_url })),
        )
            .into_response();
        if let Ok(challenge) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }

    /// The page a form was posted from or a `fetch()` was made by, when it is on this site; else the root.
    fn referring_page(&self, headers: &HeaderMap) -> ReturnUrl {
        headers
            .get(REFERER)
            .and_then(|value| value.to_str().ok())
            .and_then(|referer| url::Url::parse(referer).ok())
            .filter(|referer| referer.origin() == self.inner.config.redirect_uri.origin())
            .and_then(|referer| {
                let path = match referer.query() {
                    Some(query) => format!("{}?{query}", referer.path()),
                    None => referer.path().to_owned(),
                };
                ReturnUrl::parse(&path).ok()
            })
            .unwrap_or_else(ReturnUrl::root)
    }

    fn loop_stopped(
        &self,
        kind: RequestKind,
        scopes: &ScopeSet,
        session: &SessionRecord,
        reason: TokenRejectionReason,
    ) -> TokenRejection {
        tracing::warn!(
            home_account_id = %session.account.home_account_id, scopes = ?scopes, reason = ?reason,
            "interaction just completed but the token is still unavailable; not sending the user round again"
        );
        let (status, title, message) = match reason {
            TokenRejectionReason::InteractionRequired(InteractionReason::NoCachedTokens) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Your sign-in could not be kept",
                "You signed in, but the app could not keep your sign-in. Please try again later.".to_owned(),
            ),
            _ => (
                StatusCode::FORBIDDEN,
                "Permission not granted",
                format!(
                    "The app still lacks permission for {} after you were asked. An administrator may need to grant it.",
                    scopes.to_scope_string()
                ),
            ),
        };
        TokenRejection::new(TokenRejectionReason::InteractionDidNotHelp, failure(kind, status, title, &message))
    }
}

/// The resource a scope is for: what precedes its last `/` (`api://contoso` of `api://contoso/Orders.Read`),
/// or nothing for a short name such as `Mail.Read` (the provider's default resource).
fn resource_of(scope: &Scope) -> &str {
    scope.as_str().rfind('/').map_or("", |at| &scope.as_str()[..at])
}

fn just_interacted_for(session: &SessionRecord, scopes: &ScopeSet) -> bool {
    let recent = unix_now().saturating_sub(session.created_at) < LOOP_WINDOW.as_secs();
    recent && session.interaction_for.as_ref().is_some_and(|done| done.is_superset_of(scopes))
}

/// An error as a page for the browser or as JSON for scripts.
fn failure(kind: RequestKind, status: StatusCode, title: &str, message: &str) -> Response {
    match kind {
        RequestKind::Fetch => (status, Json(json!({ "error": title, "message": message }))).into_response(),
        _ => error_page(status, title, message, Some(("/", "Home"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(method: Method, headers: &[(&'static str, &'static str)]) -> RequestKind {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        RequestKind::of(&method, &map)
    }

    #[test]
    fn resources_of_scopes() {
        let resource = |scope: &str| resource_of(&Scope::new(scope).unwrap()).to_owned();
        assert_eq!(resource("Mail.Read"), "");
        assert_eq!(resource("api://orders-api/Orders.Read"), "api://orders-api");
        assert_eq!(resource("https://graph.microsoft.com/.default"), "https://graph.microsoft.com");
    }

    #[test]
    fn tells_navigations_form_posts_and_scripts_apart() {
        assert_eq!(
            kind(Method::GET, &[("sec-fetch-mode", "navigate"), ("accept", "text/html")]),
            RequestKind::Navigation
        );
        assert_eq!(kind(Method::GET, &[]), RequestKind::Navigation);
        assert_eq!(
            kind(Method::GET, &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")]),
            RequestKind::Navigation
        );
        assert_eq!(kind(Method::POST, &[("sec-fetch-mode", "navigate")]), RequestKind::FormPost);
        assert_eq!(kind(Method::POST, &[("content-type", "application/x-www-form-urlencoded")]), RequestKind::FormPost);
        assert_eq!(kind(Method::GET, &[("sec-fetch-mode", "cors")]), RequestKind::Fetch);
        assert_eq!(kind(Method::POST, &[("sec-fetch-mode", "same-origin")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("x-requested-with", "XMLHttpRequest")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("accept", "application/json")]), RequestKind::Fetch);
        assert_eq!(kind(Method::GET, &[("accept", "application/problem+json")]), RequestKind::Fetch);
        // A browser's own navigation header wins over a JSON Accept.
        assert_eq!(
            kind(Method::GET, &[("sec-fetch-mode", "navigate"), ("accept", "application/json")]),
            RequestKind::Navigation
        );
    }
}
