//! Tokens no signed-in user of the app holds a refresh token for: the app's own (the client credentials grant,
//! RFC 6749 §4.4) and a web API's tokens for a downstream API on behalf of its caller (Entra's on-behalf-of
//! grant, RFC 8693 token exchange elsewhere).
//!
//! Both are bought with something the app always has (its credential; the caller's token, for as long as the
//! caller's request lasts), so there is no refresh token to rotate and nothing to serialise per user: what
//! `refresh.rs` does for users reduces to the cache, one provider request per partition and scope set at a time
//! (concurrent requests join it), one retry, the throttle, and the same 5-minute buffer and proactive refresh.

use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::acquire::access_token::AccessToken;
use crate::acquire::error::{AcquireError, classify};
use crate::acquire::in_flight::{InFlight, Purchases, with_one_retry};
use crate::acquire::throttle::Throttle;
use crate::cache::hot::{HotLookup, ScopeIds};
use crate::cache::partition::EXPIRY_BUFFER_SECS;
use crate::cache::token_cache::TokenCache;
use crate::cache::without_user::Holder;
use crate::clock::unix_now;
use crate::provider::account::HomeAccountId;
use crate::provider::token_endpoint::{TokenEndpoint, TokenError, TokenResponse};
use crate::scope::set::ScopeSet;
use crate::secret::Secret;

/// How a token is bought.
#[derive(Debug, Clone)]
pub(crate) enum Grant {
    /// The app's own token.
    ClientCredentials,
    /// A token on behalf of the user whose access token `assertion` is.
    OnBehalfOf {
        /// The caller's token.
        assertion: Secret,
    },
}

/// One acquisition: where its tokens are cached, whose they are, for what, and how they are bought.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The partition (`cache/without_user.rs`: a key no user has).
    pub(crate) partition: HomeAccountId,
    pub(crate) holder: Holder,
    /// Without reserved scopes.
    pub(crate) scopes: ScopeSet,
    pub(crate) grant: Grant,
}

/// Buys, caches and serves tokens without a user, for one app.
pub(crate) struct TokensWithoutUser {
    client_id: String,
    endpoint: TokenEndpoint,
    cache: TokenCache,
    in_flight: Purchases,
    throttle: Throttle,
}

impl std::fmt::Debug for TokensWithoutUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokensWithoutUser").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl TokensWithoutUser {
    /// Remembers failures of at most `max_partitions` partitions.
    pub(crate) fn new(
        client_id: String,
        endpoint: TokenEndpoint,
        cache: TokenCache,
        max_partitions: NonZeroUsize,
    ) -> Self {
        Self { client_id, endpoint, cache, in_flight: Purchases::default(), throttle: Throttle::new(max_partitions) }
    }

    /// A token for `request`: a cached one valid beyond the 5-minute buffer (past its `refresh_on`, it still
    /// serves while one new token is bought in the background), else a new one, bought once for every
    /// concurrent identical request.
    pub(crate) async fn acquire(self: &Arc<Self>, request: &Request) -> Result<AccessToken, AcquireError> {
        let now = unix_now();
        let ids = ScopeIds::of_request(&request.scopes);
        match self.cache.find_hot(&request.partition, ids.as_ref(), now, EXPIRY_BUFFER_SECS) {
            Some(HotLookup::Hit(token)) => {
                if token.due_for_refresh(now) {
                    self.refresh_in_background(request);
                }
                return Ok(AccessToken::new(token.secret, token.expires_on));
            }
            Some(HotLookup::Unknown) => {
                if let Some(token) = self.cached(request, now, EXPIRY_BUFFER_SECS).await? {
                    return Ok(token);
                }
            }
            None | Some(HotLookup::Miss) => {}
        }
        match self.in_flight(request, false).await {
            // During an outage a token inside the buffer is better than none (as for users).
            Err(error @ AcquireError::ProviderUnavailable { .. }) => match self.cached(request, unix_now(), 0).await {
                Ok(Some(token)) => {
                    tracing::warn!("the identity provider is unavailable; serving a token close to expiry");
                    Ok(token)
                }
                _ => Err(error),
            },
            outcome => outcome,
        }
    }

    /// A cached token valid for more than `min_remaining` seconds; one due for refresh starts one in the
    /// background.
    async fn cached(
        self: &Arc<Self>,
        request: &Request,
        now: u64,
        min_remaining: u64,
    ) -> Result<Option<AccessToken>, AcquireError> {
        let Some(stored) = self.cache.load(&request.partition).await.map_err(AcquireError::cache)? else {
            return Ok(None);
        };
        let Some(entry) = stored.partition.find_access_token(&self.client_id, &request.scopes, now, min_remaining)
        else {
            return Ok(None);
        };
        if min_remaining > 0 && entry.due_for_refresh(now) {
            self.refresh_in_background(request);
        }
        Ok(Some(AccessToken::new(entry.secret.clone(), entry.expires_on)))
    }

    /// Buys a new token without anyone waiting, unless a failure remembered for this request holds it back.
    fn refresh_in_background(self: &Arc<Self>, request: &Request) {
        if !self.throttle.holds_back_early_refresh(&request.partition, &request.scopes) {
            drop(self.in_flight(request, true));
        }
    }

    /// The purchase in flight for this partition and scope set, joined, or a new one.
    fn in_flight(self: &Arc<Self>, request: &Request, early: bool) -> InFlight {
        let span = tracing::info_span!("token_without_user", early, outcome = tracing::field::Empty);
        self.in_flight.join_or_start(&request.partition, &request.scopes, span, || {
            let (tokens, request) = (Arc::clone(self), request.clone());
            async move {
                let outcome = tokens.buy(&request).await;
                if early && outcome.is_err() {
                    tokens.throttle.remember_failed_early_refresh(&request.partition, &request.scopes);
                }
                outcome
            }
        })
    }

    /// One purchase: the cache again (a purchase that just finished may have written what is needed), the
    /// throttle, the provider, the cache.
    async fn buy(&self, request: &Request) -> Result<AccessToken, AcquireError> {
        let now = unix_now();
        if let Some(stored) = self.cache.load(&request.partition).await.map_err(AcquireError::cache)?
            && let Some(entry) =
                stored.partition.find_access_token(&self.client_id, &request.scopes, now, EXPIRY_BUFFER_SECS)
            && !entry.due_for_refresh(now)
        {
            return Ok(AccessToken::new(entry.secret.clone(), entry.expires_on));
        }
        // What a remembered "interaction required" is tied to: the caller's token (a new one, after the user
        // interacted, is asked for again), or for the app the client id (nothing changes it).
        let presented = match &request.grant {
            Grant::ClientCredentials => Secret::new(self.client_id.as_str()),
            Grant::OnBehalfOf { assertion } => assertion.clone(),
        };
        let (partition, scopes) = (&request.partition, &request.scopes);
        self.throttle.check(partition, scopes, &presented).inspect_err(|_| crate::telemetry::refresh_throttled())?;
        let tokens = match self.request_with_one_retry(request).await {
            Ok(tokens) => tokens,
            Err(error) => {
                let error = classify_for(&request.grant, error);
                self.throttle.remember(partition, scopes, &presented, &error);
                tracing::info!(error = ?error.to_string(), scopes = ?scopes, "token request without a user failed");
                return Err(error);
            }
        };
        let now = unix_now();
        let (holder, client_id) = (&request.holder, self.client_id.as_str());
        let written = self
            .cache
            .update(partition, |cached| cached.record_without_user(holder, client_id, scopes, &tokens, now))
            .await;
        match written {
            Ok(entry) => Ok(AccessToken::new(entry.secret, entry.expires_on)),
            // The token is good: serve it; the next request buys another.
            Err(error) => {
                tracing::warn!(error = ?error.to_string(), "a token without a user could not be cached");
                let lifetime = crate::cache::partition::access_token_lifetime(&tokens);
                Ok(AccessToken::new(tokens.access_token.clone(), now.saturating_add(lifetime)))
            }
        }
    }

    /// One retry after a 5xx or 429 (after `Retry-After` when short) or a refused connection: neither grant
    /// consumes anything, so a retry cannot cost a grant as a refresh's could.
    async fn request_with_one_retry(&self, request: &Request) -> Result<TokenResponse, TokenError> {
        with_one_retry(|| self.request_once(request)).await
    }

    async fn request_once(&self, request: &Request) -> Result<TokenResponse, TokenError> {
        match &request.grant {
            Grant::ClientCredentials => self.endpoint.client_credentials(&request.scopes).await,
            Grant::OnBehalfOf { assertion } => self.endpoint.on_behalf_of(assertion, &request.scopes).await,
        }
    }
}

/// MSAL's classes, except that no user can interact for an app's own token: every refusal is the app's
/// registration or configuration (a missing admin grant, a wrong scope), so it is [`AcquireError::Refused`].
/// On behalf of a caller, "interaction required" (with Entra's claims challenge) is the caller's to answer.
fn classify_for(grant: &Grant, error: TokenError) -> AcquireError {
    match (grant, error) {
        (Grant::ClientCredentials, TokenError::Rejected { error, .. }) => AcquireError::Refused(Arc::new(*error)),
        (_, error) => classify(error),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use parking_lot::Mutex;

    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use url::Url;

    use super::*;
    use crate::acquire::error::InteractionReason;
    use crate::cache::without_user::{app_partition, on_behalf_of_partition, user_assertion_hash};
    use crate::provider::credential::{ClientCredential, ClientSecret};
    use crate::provider::http::ProviderHttp;

    /// A token endpoint on loopback that counts requests, keeps their forms, and answers what it is told.
    #[derive(Clone, Default)]
    struct Endpoint {
        requests: Arc<AtomicUsize>,
        forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
        /// Status and body of the answers; the default answers a fresh token for an hour.
        answer: Arc<Mutex<Option<(u16, String)>>>,
        /// Lifetime of the default answer's tokens.
        expires_in: Arc<Mutex<u64>>,
        /// `Retry-After` of every answer, in seconds.
        retry_after: Arc<Mutex<Option<u64>>>,
    }

    async fn token(State(endpoint): State<Endpoint>, body: String) -> Response {
        let n = endpoint.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        endpoint.forms.lock().push(form);
        // Slow enough that concurrent requests overlap.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = endpoint.answer.lock().clone();
        let (status, body) = answer.unwrap_or_else(|| {
            let expires_in = *endpoint.expires_in.lock();
            (200, serde_json::json!({ "token_type": "Bearer", "expires_in": expires_in, "access_token": format!("at-{n}") }).to_string())
        });
        let mut response =
            (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], body).into_response();
        if let Some(seconds) = *endpoint.retry_after.lock() {
            response.headers_mut().insert("retry-after", seconds.into());
        }
        response
    }

    impl Endpoint {
        async fn start(entra: bool) -> (Endpoint, Arc<TokensWithoutUser>) {
            let endpoint = Endpoint::default();
            *endpoint.expires_in.lock() = 3600;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
            let router = axum::Router::new().route("/token", post(token)).with_state(endpoint.clone());
            tokio::spawn(async move { axum::serve(listener, router).await });
            let token_endpoint = TokenEndpoint {
                http: ProviderHttp::new(Duration::from_secs(5)).unwrap(),
                url,
                client_id: "mail-api".to_owned(),
                credential: ClientCredential::SecretPost(ClientSecret::new("mail-api-secret")),
                entra,
                capabilities: None,
            };
            let cache = TokenCache::in_memory(NonZeroUsize::new(100).unwrap(), Duration::from_secs(3600), "mail-api");
            let tokens =
                TokensWithoutUser::new("mail-api".to_owned(), token_endpoint, cache, NonZeroUsize::new(100).unwrap());
            (endpoint, Arc::new(tokens))
        }

        fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }

        fn answer(&self, status: u16, body: &str) {
            *self.answer.lock() = Some((status, body.to_owned()));
        }
    }

    fn holder(home_account_id: &str, hash: Option<String>) -> Holder {
        Holder {
            home_account_id: home_account_id.to_owned(),
            environment: "idp.example".to_owned(),
            realm: "realm".to_owned(),
            user_assertion_hash: hash,
        }
    }

    fn for_app(scope: &str) -> Request {
        Request {
            partition: app_partition(),
            holder: holder("", None),
            scopes: ScopeSet::parse(scope).unwrap(),
            grant: Grant::ClientCredentials,
        }
    }

    fn on_behalf_of(caller: &str, assertion: &str, scope: &str) -> Request {
        let assertion = Secret::new(assertion);
        let hash = user_assertion_hash(&assertion);
        Request {
            partition: on_behalf_of_partition(caller, &hash),
            holder: holder(caller, Some(hash)),
            scopes: ScopeSet::parse(scope).unwrap(),
            grant: Grant::OnBehalfOf { assertion },
        }
    }

    #[tokio::test]
    async fn concurrent_app_requests_make_one_provider_call_and_the_token_is_cached() {
        let (endpoint, tokens) = Endpoint::start(true).await;
        let request = for_app("api://mail-api/.default");
        let all = futures::future::join_all((0..20).map(|_| tokens.acquire(&request))).await;
        let secrets: Vec<String> = all.into_iter().map(|token| token.unwrap().secret().to_owned()).collect();
        assert!(secrets.iter().all(|secret| secret == "at-1"), "{secrets:?}");
        assert_eq!(endpoint.requests(), 1, "one provider call for 20 concurrent requests");
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "at-1");
        assert_eq!(endpoint.requests(), 1, "then served from the cache");
        let form = endpoint.forms.lock()[0].clone();
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["scope"], "api://mail-api/.default");
        assert_eq!(form["client_id"], "mail-api");
        assert!(!form.contains_key("client_info"), "no user, no client_info");
        // Another resource is another token.
        assert_eq!(tokens.acquire(&for_app("api://orders-api/.default")).await.unwrap().secret(), "at-2");
    }

    #[tokio::test]
    async fn an_app_token_serves_until_the_buffer_and_is_then_replaced() {
        let (endpoint, tokens) = Endpoint::start(false).await;
        // Valid for 2 s beyond the 5-minute buffer.
        *endpoint.expires_in.lock() = EXPIRY_BUFFER_SECS + 2;
        let request = for_app("api://mail-api/.default");
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "at-1");
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "at-1");
        assert_eq!(endpoint.requests(), 1);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "at-2", "inside the buffer: a new one");
        assert_eq!(endpoint.requests(), 2);
    }

    #[tokio::test]
    async fn past_refresh_on_the_app_token_serves_while_a_new_one_is_bought_in_the_background() {
        let (endpoint, tokens) = Endpoint::start(true).await;
        // Entra's `refresh_in`: due for refresh after a second, valid for an hour.
        let early = r#"{"token_type":"Bearer","access_token":"early","expires_in":3600,"refresh_in":1}"#;
        endpoint.answer(200, early);
        let request = for_app("api://mail-api/.default");
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "early");
        *endpoint.answer.lock() = None;
        tokio::time::sleep(Duration::from_millis(1100)).await;

        // Past `refresh_on`: the cached token answers (a request that waited for the purchase would get the new
        // one), and one purchase starts behind it, which the next request does not start again.
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "early");
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "early");
        // Once bought, the new token serves; requests meanwhile join the one purchase.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokens.acquire(&request).await.unwrap().secret() != "at-2" {
            assert!(tokio::time::Instant::now() < deadline, "the background purchase never landed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(endpoint.requests(), 2, "one purchase in the background");
    }

    #[tokio::test]
    async fn an_app_token_refused_is_the_apps_problem_and_outages_are_retried_once() {
        let (endpoint, tokens) = Endpoint::start(true).await;
        let request = for_app("api://mail-api/.default");
        endpoint.answer(400, r#"{"error":"invalid_scope","error_codes":[1002012]}"#);
        let refused = tokens.acquire(&request).await;
        assert!(matches!(&refused, Err(AcquireError::Refused(error)) if error.error == "invalid_scope"), "{refused:?}");
        assert_eq!(endpoint.requests(), 1, "a refusal is not retried");
        endpoint.answer(503, "{}");
        let down = tokens.acquire(&request).await;
        assert!(matches!(down, Err(AcquireError::ProviderUnavailable { .. })), "{down:?}");
        assert_eq!(endpoint.requests(), 3, "a 503 is retried once");
        *endpoint.answer.lock() = None;
        assert_eq!(tokens.acquire(&request).await.unwrap().secret(), "at-4", "failures are not cached");
    }

    #[tokio::test]
    async fn a_long_retry_after_fails_identical_requests_without_asking_again() {
        let (endpoint, tokens) = Endpoint::start(true).await;
        let request = for_app("api://mail-api/.default");
        endpoint.answer(429, "{}");
        *endpoint.retry_after.lock() = Some(30);
        let busy = tokens.acquire(&request).await;
        assert!(matches!(busy, Err(AcquireError::ProviderUnavailable { retry_after: Some(_) })), "{busy:?}");
        assert_eq!(endpoint.requests(), 1, "30 s is not waited for inside a request");
        *endpoint.answer.lock() = None;
        assert!(matches!(tokens.acquire(&request).await, Err(AcquireError::ProviderUnavailable { .. })));
        assert_eq!(endpoint.requests(), 1, "throttled: the provider is not asked before Retry-After");
        assert!(
            tokens.acquire(&for_app("api://orders-api/.default")).await.is_ok(),
            "another request is not held back"
        );
    }

    #[tokio::test]
    async fn on_behalf_of_tokens_are_cached_per_caller_and_per_assertion() {
        let (endpoint, tokens) = Endpoint::start(false).await;
        let scope = "api://contacts-api/Contacts.Read";
        let alice = on_behalf_of("alice.realm", "alice-token-1", scope);
        let (a, b) = futures::join!(tokens.acquire(&alice), tokens.acquire(&alice));
        assert_eq!((a.unwrap().secret(), b.unwrap().secret()), ("at-1", "at-1"));
        assert_eq!(tokens.acquire(&alice).await.unwrap().secret(), "at-1", "cached");
        assert_eq!(endpoint.requests(), 1);
        let form = endpoint.forms.lock()[0].clone();
        assert_eq!(form["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
        assert_eq!(form["subject_token"], "alice-token-1");
        assert_eq!(form["subject_token_type"], "urn:ietf:params:oauth:token-type:access_token");

        // Another caller, and the same caller with another token, get their own.
        let bob = on_behalf_of("bob.realm", "bob-token", scope);
        assert_eq!(tokens.acquire(&bob).await.unwrap().secret(), "at-2");
        let alice_again = on_behalf_of("alice.realm", "alice-token-2", scope);
        assert_eq!(tokens.acquire(&alice_again).await.unwrap().secret(), "at-3");
        // The same token presented by a different identity (never happens with validated tokens) is not served
        // the other's either.
        let forged = on_behalf_of("mallory.realm", "alice-token-1", scope);
        assert_eq!(tokens.acquire(&forged).await.unwrap().secret(), "at-4");
        assert_eq!(tokens.acquire(&alice).await.unwrap().secret(), "at-1");
        assert_eq!(endpoint.requests(), 4);
        let subjects: Vec<String> = endpoint.forms.lock().iter().map(|form| form["subject_token"].clone()).collect();
        assert_eq!(subjects, ["alice-token-1", "bob-token", "alice-token-2", "alice-token-1"]);
    }

    #[tokio::test]
    async fn entra_on_behalf_of_shape_and_its_claims_challenge() {
        use crate::provider::token_endpoint::tests::{
            ENTRA_OBO_CLAIMS_CHALLENGE, ENTRA_OBO_INVALID_ASSERTION, ENTRA_OBO_RESPONSE,
        };
        let (endpoint, tokens) = Endpoint::start(true).await;
        let scope = "https://graph.microsoft.com/user.read";
        endpoint.answer(200, ENTRA_OBO_RESPONSE);
        let alice = on_behalf_of("oid.tid", "eyJ.alice.sig", scope);
        let token = tokens.acquire(&alice).await.unwrap();
        assert!(token.secret().ends_with(".obo.sig"));
        let form = endpoint.forms.lock()[0].clone();
        assert_eq!(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
        assert_eq!(form["requested_token_use"], "on_behalf_of");
        assert_eq!(form["assertion"], "eyJ.alice.sig");
        assert_eq!(form["scope"], scope);
        assert!(!form.contains_key("subject_token"));

        endpoint.answer(400, ENTRA_OBO_CLAIMS_CHALLENGE);
        let bob = on_behalf_of("bob.tid", "eyJ.bob.sig", scope);
        let Err(AcquireError::InteractionRequired(required)) = tokens.acquire(&bob).await else {
            panic!("interaction required")
        };
        assert_eq!(required.reason, InteractionReason::ClaimsChallenge);
        assert!(required.claims.as_deref().unwrap().contains("polids"));
        // Asked again with the same token: answered from the throttle, not the provider (MSAL's UI throttle).
        let before = endpoint.requests();
        assert!(matches!(tokens.acquire(&bob).await, Err(AcquireError::InteractionRequired(_))));
        assert_eq!(endpoint.requests(), before);

        endpoint.answer(400, ENTRA_OBO_INVALID_ASSERTION);
        let carol = on_behalf_of("carol.tid", "eyJ.carol.sig", scope);
        let Err(AcquireError::InteractionRequired(required)) = tokens.acquire(&carol).await else {
            panic!("interaction required")
        };
        assert_eq!((required.reason, required.claims), (InteractionReason::InvalidGrant, None));
    }
}
