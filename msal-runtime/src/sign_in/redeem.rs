//! Where an authorization code is redeemed: once per sign-in, by the one callback request that claimed it
//! (see `callback`). Then the ID token is validated, the user's tokens go to their cache partition, and a new
//! session begins.
//!
//! Order matters (docs/SECURITY.md §5, §7, §11–§14, §18): the response's `iss` is checked before anything
//! else is believed (RFC 9207 §2.4), then the provider's `error`, then the code is redeemed (RFC 6749 §4.1.3)
//! and the ID token validated (OpenID Connect Core §3.1.3.7) before anything is written.

use std::sync::Arc;

use url::Url;

use crate::cache::partition::{GrantType, Issued};
use crate::cache::schema::AccountEntry;
use crate::cache::token_cache::TokenCache;
use crate::clock::unix_now;
use crate::config::settings::{MsalConfig, ResponseMode, SignInUrls};
use crate::provider::authority::IssuerMismatch;
use crate::provider::id_token::Expect;
use crate::provider::trust::{Provider, ResponseIssuerError};
use crate::session::sessions::Sessions;
use crate::session::store::SessionId;
use crate::sign_in::outcome::CallbackRejection;
use crate::sign_in::return_url::ReturnUrl;
use crate::sign_in::transaction::PendingSignIn;
use crate::web::params::Params;

/// Redeems codes and signs users in.
#[derive(Debug)]
pub(crate) struct Redemption {
    client_id: String,
    redirect_uri: Url,
    provider: Arc<Provider>,
    cache: TokenCache,
    sessions: Arc<Sessions>,
}

impl Redemption {
    pub(crate) fn new(
        config: &MsalConfig,
        urls: &SignInUrls,
        provider: Arc<Provider>,
        cache: TokenCache,
        sessions: Arc<Sessions>,
    ) -> Self {
        Self { client_id: config.client_id.clone(), redirect_uri: urls.redirect_uri.clone(), provider, cache, sessions }
    }

    /// Redeems the code of a claimed sign-in and signs the user in.
    pub(crate) async fn redeem(
        &self,
        sign_in: PendingSignIn,
        params: &Params,
        mode: ResponseMode,
        previous_session: Option<SessionId>,
    ) -> Result<(SessionId, ReturnUrl), CallbackRejection> {
        if mode != sign_in.response_mode {
            return Err(CallbackRejection::ResponseModeMismatch);
        }
        let response_issuer = params.get("iss");
        self.provider.check_response_issuer(response_issuer).map_err(|error| match error {
            ResponseIssuerError::Mismatch(mismatch) => CallbackRejection::Issuer(mismatch),
            ResponseIssuerError::Missing => CallbackRejection::MissingIssuer,
        })?;
        if let Some(error) = params.get("error") {
            return Err(CallbackRejection::provider(error, params.get("error_description")));
        }
        let code = params.get("code").ok_or(CallbackRejection::MissingCode)?;

        let tokens = self
            .provider
            .token_endpoint()
            .redeem_code(code, &self.redirect_uri, sign_in.verifier.secret(), &sign_in.scopes)
            .await
            .map_err(|error| CallbackRejection::TokenRequest(Arc::new(error)))?;
        let raw_id_token = tokens.id_token.as_ref().ok_or(CallbackRejection::MissingIdToken)?;
        let now = unix_now();
        let claims = self
            .provider
            .validate_id_token(raw_id_token.expose(), Expect::SignIn { nonce: sign_in.nonce.expose() }, now as i64)
            .await?;
        // With Entra's issuer template the response's `iss` was matched loosely; it must be the token's own.
        if let Some(iss) = response_issuer
            && iss != claims.issuer()
        {
            let mismatch = IssuerMismatch { expected: claims.issuer().to_owned(), found: iss.to_owned() };
            return Err(CallbackRejection::Issuer(mismatch));
        }
        let account = self.provider.identify(&claims, tokens.client_info.as_deref())?;

        let account_entry = AccountEntry::from_identity(&account);
        let issued = Issued {
            account: &account_entry,
            client_id: &self.client_id,
            requested: &sign_in.scopes,
            grant_type: GrantType::AuthorizationCode,
            now,
        };
        self.cache
            .update(&account.home_account_id, |partition| partition.record(&issued, &tokens))
            .await
            .map_err(|error| CallbackRejection::Cache(Arc::new(error)))?;

        // A new session id at every sign-in (docs/SECURITY.md §18); the one this browser had before is ended.
        if let Some(previous) = previous_session {
            self.sessions.end(&previous).await;
        }
        tracing::info!(home_account_id = ?account.home_account_id, "signed in");
        let session = self
            .sessions
            .begin(account, sign_in.interaction)
            .await
            .map_err(|error| CallbackRejection::Cache(Arc::new(error)))?;
        Ok((session, sign_in.return_url))
    }
}
