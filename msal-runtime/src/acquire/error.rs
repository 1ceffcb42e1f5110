//! What can stop a silent acquisition, classified so that each case gets the response a user expects.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::store::StoreError;
use crate::provider::id_token::IdTokenError;
use crate::provider::token_endpoint::{ProviderError, TokenError};

/// Why no token could be acquired silently.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AcquireError {
    /// The user must interact with the provider: sign in again, consent, or satisfy a claims challenge.
    #[error("interaction required: {0}")]
    InteractionRequired(InteractionRequired),
    /// The provider is throttling or failing; try again later.
    #[error("the identity provider is unavailable")]
    ProviderUnavailable {
        /// How long the provider asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The provider refused the request for a reason interaction cannot fix (for example `invalid_client`):
    /// the app's registration or configuration is wrong.
    #[error("the identity provider refused the app's token request: {}", .0.error)]
    Refused(Arc<ProviderError>),
    /// The provider answered with something unusable (a malformed response, or an ID token that fails
    /// validation).
    #[error("the identity provider sent an unusable response: {0}")]
    InvalidResponse(Arc<InvalidResponse>),
    /// The token cache store failed.
    #[error("{0}")]
    Cache(Arc<StoreError>),
}

/// Why an app-only or on-behalf-of token could not be acquired
/// ([`Msal::acquire_token_for_app`](crate::Msal::acquire_token_for_app),
/// [`Msal::acquire_token_on_behalf_of`](crate::Msal::acquire_token_on_behalf_of)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRequestError {
    /// The scopes cannot be asked for with this grant: a programming or configuration error.
    #[error("cannot ask for {scopes:?}: {reason}")]
    InvalidScopes {
        /// The scopes as given.
        scopes: String,
        /// What the grant takes instead.
        reason: &'static str,
    },
    /// On-behalf-of exchanges a user's token; this caller is an app calling as itself, which has no user to
    /// act for (it can call the downstream API as itself, with an app-only token).
    #[error("on-behalf-of needs a user's token: the caller is an app calling as itself")]
    AppOnlyCaller,
    /// The acquisition itself failed. On behalf of a caller, [`AcquireError::InteractionRequired`] (with the
    /// provider's claims challenge, when it sent one) is for the caller to answer.
    #[error(transparent)]
    Acquire(#[from] AcquireError),
}

/// The provider's answer could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidResponse {
    /// The token response itself.
    #[error(transparent)]
    Token(TokenError),
    /// The ID token that came with a refresh.
    #[error("its ID token: {0}")]
    IdToken(IdTokenError),
}

/// Interaction is required, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InteractionRequired {
    /// Why.
    pub reason: InteractionReason,
    /// A claims challenge to pass to the authorization request (OpenID Connect Core §5.5), when the
    /// provider sent one.
    pub claims: Option<String>,
}

/// Why interaction is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InteractionReason {
    /// The user's cached tokens are gone (restart, eviction, sign-out elsewhere).
    #[error("no cached tokens for the user")]
    NoCachedTokens,
    /// There is no refresh token to use.
    #[error("no refresh token")]
    NoRefreshToken,
    /// The user has not consented to the scopes.
    #[error("consent required")]
    ConsentRequired,
    /// The user must sign in again.
    #[error("sign-in required")]
    LoginRequired,
    /// The refresh token is expired, revoked or otherwise invalid (`invalid_grant`).
    #[error("the refresh token is no longer valid")]
    InvalidGrant,
    /// The provider asked for interaction (`interaction_required`, for example MFA).
    #[error("the identity provider requires interaction")]
    ProviderRequested,
    /// The scopes are not granted to the refresh token (`invalid_scope`).
    #[error("the scopes are not granted")]
    ScopesNotGranted,
    /// A claims challenge (conditional access) must be satisfied.
    #[error("a claims challenge must be satisfied")]
    ClaimsChallenge,
}

impl AcquireError {
    pub(crate) fn interaction(reason: InteractionReason) -> Self {
        AcquireError::InteractionRequired(InteractionRequired { reason, claims: None })
    }

    pub(crate) fn cache(error: StoreError) -> Self {
        AcquireError::Cache(Arc::new(error))
    }
}

/// MSAL's rules for turning a token-endpoint failure into a class.
pub(crate) fn classify(error: TokenError) -> AcquireError {
    let error = match error {
        TokenError::Rejected { error, .. } => error,
        TokenError::Unavailable { retry_after, .. } => return AcquireError::ProviderUnavailable { retry_after },
        TokenError::Http(_) => return AcquireError::ProviderUnavailable { retry_after: None },
        other => return AcquireError::InvalidResponse(Arc::new(InvalidResponse::Token(other))),
    };
    let suberror = error.suberror.as_deref();
    let reason = match error.error.as_str() {
        // Entra: an `invalid_grant` that a user cannot fix by signing in (family refresh token of another
        // client; an app protection policy that needs a broker).
        "invalid_grant" if matches!(suberror, Some("client_mismatch" | "protection_policy_required")) => None,
        // AADSTS65001: the user or admin has not consented.
        "invalid_grant" if suberror == Some("consent_required") || error.error_codes.contains(&65001) => {
            Some(InteractionReason::ConsentRequired)
        }
        "invalid_grant" => Some(InteractionReason::InvalidGrant),
        "interaction_required" => Some(InteractionReason::ProviderRequested),
        "consent_required" => Some(InteractionReason::ConsentRequired),
        "login_required" => Some(InteractionReason::LoginRequired),
        "invalid_scope" => Some(InteractionReason::ScopesNotGranted),
        _ if error.claims.is_some() => Some(InteractionReason::ClaimsChallenge),
        _ => None,
    };
    match reason {
        Some(reason) => {
            let reason = if error.claims.is_some() { InteractionReason::ClaimsChallenge } else { reason };
            AcquireError::InteractionRequired(InteractionRequired { reason, claims: error.claims.clone() })
        }
        None => AcquireError::Refused(Arc::new(*error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn rejected(body: serde_json::Value) -> AcquireError {
        let error: ProviderError = serde_json::from_value(body).unwrap();
        classify(TokenError::Rejected { status: StatusCode::BAD_REQUEST, error: Box::new(error) })
    }

    fn reason(error: AcquireError) -> Option<InteractionReason> {
        match error {
            AcquireError::InteractionRequired(required) => Some(required.reason),
            _ => None,
        }
    }

    #[test]
    fn entra_and_oidc_errors_are_classified_like_msal() {
        use serde_json::json;
        let cases = [
            (
                json!({"error": "invalid_grant", "error_codes": [65001], "suberror": "consent_required"}),
                Some(InteractionReason::ConsentRequired),
            ),
            (json!({"error": "invalid_grant", "error_codes": [65001]}), Some(InteractionReason::ConsentRequired)),
            (
                json!({"error": "invalid_grant", "error_codes": [700082], "suberror": "bad_token"}),
                Some(InteractionReason::InvalidGrant),
            ),
            (json!({"error": "invalid_grant", "suberror": "client_mismatch"}), None),
            (json!({"error": "invalid_grant", "suberror": "protection_policy_required"}), None),
            (
                json!({"error": "interaction_required", "error_codes": [50076]}),
                Some(InteractionReason::ProviderRequested),
            ),
            (json!({"error": "consent_required"}), Some(InteractionReason::ConsentRequired)),
            (json!({"error": "login_required"}), Some(InteractionReason::LoginRequired)),
            (
                json!({"error": "invalid_scope", "error_description": "refresh token missing requested scope"}),
                Some(InteractionReason::ScopesNotGranted),
            ),
            (json!({"error": "invalid_client", "error_codes": [7000215]}), None),
            (json!({"error": "unauthorized_client"}), None),
        ];
        for (body, expected) in cases {
            assert_eq!(reason(rejected(body.clone())), expected, "{body}");
        }
        assert!(matches!(rejected(json!({"error": "invalid_client"})), AcquireError::Refused(_)));
    }

    #[test]
    fn claims_challenges_carry_the_claims() {
        let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let error = rejected(
            serde_json::json!({"error": "interaction_required", "claims": claims, "suberror": "message_only"}),
        );
        let AcquireError::InteractionRequired(required) = error else { panic!() };
        assert_eq!(required.reason, InteractionReason::ClaimsChallenge);
        assert_eq!(required.claims.as_deref(), Some(claims));
    }

    #[test]
    fn outages_keep_retry_after() {
        let error = classify(TokenError::Unavailable {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(Duration::from_secs(3)),
        });
        assert!(
            matches!(error, AcquireError::ProviderUnavailable { retry_after: Some(d) } if d == Duration::from_secs(3))
        );
    }
}
