//! A web API calling a downstream API on behalf of its caller: who the caller is for the token cache, and what
//! the caller is answered when no token could be had ([`OnBehalfOfRejection`]). The acquisition itself is
//! `Msal::acquire_token_on_behalf_of` (`acquire/without_user.rs`).

use axum::response::{IntoResponse, Response};
use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use crate::acquire::error::{AcquireError, InteractionReason, TokenRequestError};
use crate::provider::account::MsalShape;
use crate::provider::authority::Authority;
use crate::web_api::claims_challenge::InsufficientClaims;
use crate::web_api::protected_api::ApiCaller;

/// The caller as MSAL's cache names a user: home account id and realm. Entra: `oid.tid` (the caller in the
/// tenant that issued the token) and `tid`; elsewhere `sub` and the issuer's realm, as MSAL writes other issuers'
/// users (`provider/account.rs`, `MsalShape`).
pub(crate) fn caller_account(caller: &ApiCaller, authority: &Authority) -> (String, String) {
    if let (Authority::Entra(_), Some(oid), Some(tid)) = (authority, caller.object_id(), caller.tenant_id()) {
        let tid = tid.to_ascii_lowercase();
        return (format!("{oid}.{tid}").to_ascii_lowercase(), tid);
    }
    (caller.subject().to_owned(), MsalShape::of(authority).realm)
}

/// Why a web API got no token for a downstream API on behalf of its caller, answered to the caller:
///
/// | why | answer |
/// |---|---|
/// | a claims challenge from the provider (conditional access, MFA) | 401 `insufficient_claims` with the claims ([`InsufficientClaims`]): the caller's app gets a token satisfying them and calls again |
/// | the caller's token is refused for the exchange (`invalid_grant`, sign-in required) | 401 `invalid_token` |
/// | consent or interaction the user must give | 403 `insufficient_scope` |
/// | an app-only caller | 403 `insufficient_scope` |
/// | the provider throttling or down, the cache store down | 503 (`Retry-After` when the provider said) |
/// | an unusable answer from the provider | 502 |
/// | the provider refusing the API's own request, invalid scopes | 500 |
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct OnBehalfOfRejection(#[from] pub TokenRequestError);

impl From<AcquireError> for OnBehalfOfRejection {
    fn from(error: AcquireError) -> Self {
        Self(TokenRequestError::Acquire(error))
    }
}

impl OnBehalfOfRejection {
    /// The claims challenge to pass back to the caller, when the provider sent one.
    pub fn claims_challenge(&self) -> Option<InsufficientClaims> {
        let TokenRequestError::Acquire(AcquireError::InteractionRequired(required)) = &self.0 else { return None };
        let claims = serde_json::from_str(required.claims.as_deref()?).ok()?;
        Some(InsufficientClaims::new(claims))
    }
}

fn challenge(status: StatusCode, challenge: String, text: &str) -> Response {
    let mut response = (status, text.to_owned()).into_response();
    let challenge = HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer"));
    response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    response
}

impl IntoResponse for OnBehalfOfRejection {
    fn into_response(self) -> Response {
        if let Some(claims) = self.claims_challenge() {
            return claims.into_response();
        }
        let error = match self.0 {
            TokenRequestError::AppOnlyCaller => {
                let text = "this route does not accept app-only callers";
                let header = format!("Bearer error=\"insufficient_scope\", error_description=\"{text}\"");
                return challenge(StatusCode::FORBIDDEN, header, text);
            }
            TokenRequestError::InvalidScopes { .. } => {
                tracing::error!(error = ?self.0.to_string(), "an on-behalf-of request asks for invalid scopes");
                return (StatusCode::INTERNAL_SERVER_ERROR, "the API asks for invalid scopes").into_response();
            }
            TokenRequestError::Acquire(error) => error,
        };
        match error {
            AcquireError::InteractionRequired(required) => match required.reason {
                InteractionReason::InvalidGrant | InteractionReason::LoginRequired => {
                    let text = "the token cannot be used on behalf of its user: sign in again";
                    let header = format!("Bearer error=\"invalid_token\", error_description=\"{text}\"");
                    challenge(StatusCode::UNAUTHORIZED, header, text)
                }
                _ => {
                    let text = "the user must consent to, or interact for, the API this route calls on their behalf";
                    let header = format!("Bearer error=\"insufficient_scope\", error_description=\"{text}\"");
                    challenge(StatusCode::FORBIDDEN, header, text)
                }
            },
            AcquireError::ProviderUnavailable { retry_after } => {
                let mut response =
                    (StatusCode::SERVICE_UNAVAILABLE, "the identity provider is unavailable").into_response();
                if let Some(wait) = retry_after {
                    response.headers_mut().insert(RETRY_AFTER, wait.as_secs().max(1).into());
                }
                response
            }
            AcquireError::Cache(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "the token cache is unavailable").into_response()
            }
            AcquireError::InvalidResponse(error) => {
                tracing::warn!(error = ?error.to_string(), "an unusable on-behalf-of answer");
                (StatusCode::BAD_GATEWAY, "the identity provider's answer was unusable").into_response()
            }
            other => {
                tracing::error!(error = ?other.to_string(), "the identity provider refused the API's on-behalf-of request");
                (StatusCode::INTERNAL_SERVER_ERROR, "the identity provider refused the API's request").into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::error::InteractionRequired;
    use crate::downstream::challenge::{Challenge, challenge_of};

    fn interaction(reason: InteractionReason, claims: Option<&str>) -> OnBehalfOfRejection {
        let required = InteractionRequired { reason, claims: claims.map(str::to_owned) };
        OnBehalfOfRejection::from(AcquireError::InteractionRequired(required))
    }

    #[test]
    fn a_claims_challenge_of_the_exchange_is_passed_back_to_the_caller() {
        let claims = r#"{"access_token":{"polids":{"essential":true,"values":["9ab03e19"]}}}"#;
        let response = interaction(InteractionReason::ClaimsChallenge, Some(claims)).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // Read as the caller's runtime reads it (`downstream/`): the same claims, to re-authenticate with.
        let Ok(Some(Challenge::Claims(read))) = challenge_of(response.status(), response.headers()) else {
            panic!("a claims challenge")
        };
        let read: serde_json::Value = serde_json::from_str(read.claims()).unwrap();
        assert_eq!(read, serde_json::from_str::<serde_json::Value>(claims).unwrap());
    }

    #[test]
    fn other_failures_get_their_own_answers() {
        let status = |rejection: OnBehalfOfRejection| rejection.into_response().status();
        assert_eq!(status(interaction(InteractionReason::InvalidGrant, None)), StatusCode::UNAUTHORIZED);
        assert_eq!(status(interaction(InteractionReason::ConsentRequired, None)), StatusCode::FORBIDDEN);
        assert_eq!(status(TokenRequestError::AppOnlyCaller.into()), StatusCode::FORBIDDEN);
        let busy = AcquireError::ProviderUnavailable { retry_after: Some(std::time::Duration::from_secs(7)) };
        let response = OnBehalfOfRejection::from(busy).into_response();
        assert_eq!(
            (response.status(), &response.headers()[RETRY_AFTER]),
            (StatusCode::SERVICE_UNAVAILABLE, &HeaderValue::from(7))
        );
    }
}
