//! The example web API: one in-memory mailbox per user, behind bearer access tokens.
//!
//! `GET /messages` (needs `Mail.Read`) lists the caller's inbox; `POST /messages` (needs `Mail.Send`) delivers
//! a message to the inbox of the user named in `to` (their `sub`). `POST /admin/revoke/{user}` (with the admin
//! key, when one is configured) revokes a user's sessions: their tokens issued before then are answered with a
//! claims challenge, as an Entra-protected API does under continuous access evaluation.
//!
//! Apps calling as themselves (daemons, with the client credentials grant) need the app role `Mail.Read.All`:
//! `GET /admin/mailboxes/count` is for them only; `GET /mailboxes/{user}/messages` serves both kinds of caller
//! and tells them apart: a user (with `Mail.Read`) reads their own inbox only, an app any user's.
//!
//! `GET /contacts` (needs `Mail.Read`) calls a second API, the contacts API ([`contacts_api`]), on behalf of its
//! caller: the mail API exchanges the caller's token for one of the contacts API (on-behalf-of) with its own app
//! registration ([`Contacts`]), and answers 503 when none is configured.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use msal_runtime::error::OnBehalfOfRejection;
use msal_runtime::{
    ApiCaller, AppCaller, Bearer, CallerKind, InsufficientClaims, Msal, ProtectedApi, RequiredRoles, RequiredScopes,
    ScopeSet, UserOrApp,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// `Mail.Read`.
#[derive(Debug)]
pub struct MailRead;
impl RequiredScopes for MailRead {
    const SCOPES: &'static [&'static str] = &["Mail.Read"];
}

/// `Mail.Send`.
#[derive(Debug)]
pub struct MailSend;
impl RequiredScopes for MailSend {
    const SCOPES: &'static [&'static str] = &["Mail.Send"];
}

/// The app role `Mail.Read.All`: an app (not a user) reads every mailbox.
#[derive(Debug)]
pub struct MailReadAll;
impl RequiredRoles for MailReadAll {
    const ROLES: &'static [&'static str] = &["Mail.Read.All"];
}

/// What `GET /admin/mailboxes/count` answers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct MailboxCount {
    /// Users with an inbox.
    pub mailboxes: usize,
    /// Messages in all inboxes.
    pub messages: usize,
}

/// A delivered message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    /// The sender's `sub`.
    pub from: String,
    /// The recipient's `sub`.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The text.
    pub body: String,
    /// When it was sent, in Unix seconds.
    pub sent_at: u64,
}

/// A message to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewMessage {
    /// The recipient's `sub`.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The text.
    pub body: String,
}

/// Every user's inbox, and when each user's sessions were last revoked, by `sub`.
#[derive(Debug, Clone, Default)]
pub struct Mailboxes {
    inboxes: Arc<Mutex<HashMap<String, Vec<Message>>>>,
    revoked: Arc<Mutex<HashMap<String, u64>>>,
}

impl Mailboxes {
    /// A claims challenge for a caller whose token was issued before their sessions were revoked.
    fn challenge(&self, caller: &ApiCaller) -> Option<InsufficientClaims> {
        let revoked_at = *self.revoked.lock().get(caller.subject())?;
        let issued_at = caller.issued_at().unwrap_or(0);
        (issued_at < revoked_at).then(|| InsufficientClaims::issued_since(revoked_at))
    }
}

const MAX_FIELD: usize = 256;
const MAX_BODY: usize = 64 * 1024;

/// The API's state: the token validator the `Bearer` extractor uses, the mailboxes, the admin key, and how to
/// reach the contacts API.
#[derive(Debug, Clone)]
struct ApiState {
    api: ProtectedApi,
    mailboxes: Mailboxes,
    admin_key: Option<Arc<str>>,
    contacts: Option<Contacts>,
}

/// How the mail API calls the contacts API on behalf of its callers: the mail API's own app registration (an
/// [`Msal`] configured with its client id and credential: the audience of its callers' tokens) and the contacts
/// API's base URL.
#[derive(Debug, Clone)]
pub struct Contacts {
    msal: Msal,
    url: url::Url,
    http: reqwest::Client,
}

impl Contacts {
    /// Calls the contacts API at `url` (its base URL) with tokens `msal` acquires on behalf of callers.
    pub fn new(msal: Msal, url: url::Url) -> Self {
        Self { msal, url, http: reqwest::Client::new() }
    }

    /// The mail API's runtime, for looking into its token cache.
    pub fn msal(&self) -> &Msal {
        &self.msal
    }
}

impl FromRef<ApiState> for ProtectedApi {
    fn from_ref(state: &ApiState) -> ProtectedApi {
        state.api.clone()
    }
}

impl FromRef<ApiState> for Mailboxes {
    fn from_ref(state: &ApiState) -> Mailboxes {
        state.mailboxes.clone()
    }
}

/// The API's router, validating bearer tokens with `api`, without the admin route.
pub fn router(api: &ProtectedApi, mailboxes: Mailboxes) -> Router {
    router_with_admin(api, mailboxes, None)
}

/// [`router`], with `POST /admin/revoke/{user}` for requests carrying `X-Admin-Key: <admin_key>`.
pub fn router_with_admin(api: &ProtectedApi, mailboxes: Mailboxes, admin_key: Option<&str>) -> Router {
    router_with_contacts(api, mailboxes, admin_key, None)
}

/// [`router_with_admin`], with `GET /contacts` calling the contacts API on behalf of the caller (503 without).
pub fn router_with_contacts(
    api: &ProtectedApi,
    mailboxes: Mailboxes,
    admin_key: Option<&str>,
    contacts: Option<Contacts>,
) -> Router {
    let state = ApiState { api: api.clone(), mailboxes, admin_key: admin_key.map(Arc::from), contacts };
    Router::new()
        .route("/contacts", get(list_contacts))
        .route("/messages", get(list).post(send))
        .route("/mailboxes/{user}/messages", get(list_of))
        .route("/admin/mailboxes/count", get(count))
        .route("/admin/revoke/{user}", post(revoke))
        .with_state(state)
}

async fn list(caller: Bearer<MailRead>, State(mailboxes): State<Mailboxes>) -> Result<Json<Vec<Message>>, Response> {
    if let Some(challenge) = mailboxes.challenge(&caller) {
        return Err(challenge.into_response());
    }
    Ok(Json(mailboxes.inboxes.lock().get(caller.subject()).cloned().unwrap_or_default()))
}

/// `GET /mailboxes/{user}/messages`: an app with `Mail.Read.All` reads any user's inbox; a user with `Mail.Read`
/// only their own (a user's own `Mail.Read.All` role, if assigned, is not an app's permission).
async fn list_of(
    caller: UserOrApp<MailRead, MailReadAll>,
    State(mailboxes): State<Mailboxes>,
    Path(user): Path<String>,
) -> Result<Json<Vec<Message>>, Response> {
    if let Some(challenge) = mailboxes.challenge(&caller) {
        return Err(challenge.into_response());
    }
    if caller.kind() != CallerKind::App && caller.subject() != user {
        return Err((StatusCode::FORBIDDEN, "a user reads their own mailbox only").into_response());
    }
    Ok(Json(mailboxes.inboxes.lock().get(&user).cloned().unwrap_or_default()))
}

/// `GET /admin/mailboxes/count`: for apps with `Mail.Read.All` only.
async fn count(_caller: AppCaller<MailReadAll>, State(mailboxes): State<Mailboxes>) -> Json<MailboxCount> {
    let inboxes = mailboxes.inboxes.lock();
    Json(MailboxCount { mailboxes: inboxes.len(), messages: inboxes.values().map(Vec::len).sum() })
}

/// `POST /admin/revoke/{user}`: from now on, the user's tokens issued before this second are challenged.
async fn revoke(State(state): State<ApiState>, Path(user): Path<String>, headers: HeaderMap) -> StatusCode {
    let given = headers.get("x-admin-key").and_then(|value| value.to_str().ok());
    match (&state.admin_key, given) {
        (Some(key), Some(given)) if key.as_bytes() == given.as_bytes() => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            state.mailboxes.revoked.lock().insert(user, now);
            StatusCode::NO_CONTENT
        }
        (Some(_), _) => StatusCode::FORBIDDEN,
        (None, _) => StatusCode::NOT_FOUND,
    }
}

async fn send(
    caller: Bearer<MailSend>,
    State(mailboxes): State<Mailboxes>,
    Json(message): Json<NewMessage>,
) -> Result<(StatusCode, Json<Message>), Response> {
    if let Some(challenge) = mailboxes.challenge(&caller) {
        return Err(challenge.into_response());
    }
    let to = message.to.trim();
    if to.is_empty() || to.len() > MAX_FIELD || message.subject.len() > MAX_FIELD || message.body.len() > MAX_BODY {
        let refusal = "a recipient is required; subject and body are limited in length";
        return Err((StatusCode::UNPROCESSABLE_ENTITY, refusal).into_response());
    }
    let sent_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let message = Message {
        from: caller.subject().to_owned(),
        to: to.to_owned(),
        subject: message.subject,
        body: message.body,
        sent_at,
    };
    mailboxes.inboxes.lock().entry(message.to.clone()).or_default().push(message.clone());
    Ok((StatusCode::CREATED, Json(message)))
}

/// The contacts API's scope, as the test provider writes it in its tokens.
const CONTACTS_READ: &str = "api://contacts-api/Contacts.Read";

/// `GET /contacts`: the caller's contacts, from the contacts API, called on the caller's behalf.
async fn list_contacts(caller: Bearer<MailRead>, State(state): State<ApiState>) -> Result<Response, Response> {
    if let Some(challenge) = state.mailboxes.challenge(&caller) {
        return Err(challenge.into_response());
    }
    let Some(contacts) = &state.contacts else {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "no contacts API is configured").into_response());
    };
    let scopes = ScopeSet::parse(CONTACTS_READ).expect("a valid scope");
    // A claims challenge of the provider goes back to the caller as a 401 `insufficient_claims`.
    let token = contacts
        .msal
        .acquire_token_on_behalf_of(&caller, &scopes)
        .await
        .map_err(|error| OnBehalfOfRejection::from(error).into_response())?;
    let url = contacts.url.join("contacts").expect("a relative path");
    let answer =
        contacts.http.get(url).header(axum::http::header::AUTHORIZATION, token.authorization_header()).send().await;
    match answer {
        Ok(answer) if answer.status().is_success() => {
            let body = answer.bytes().await.map_err(|_| StatusCode::BAD_GATEWAY.into_response())?;
            Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        _ => Err((StatusCode::BAD_GATEWAY, "the contacts API did not answer").into_response()),
    }
}

/// The contacts API: a second API, which the mail API calls on behalf of its callers.
pub mod contacts_api {
    use axum::routing::get;
    use axum::{Json, Router};
    use msal_runtime::{Bearer, ProtectedApi, RequiredScopes};
    use serde::{Deserialize, Serialize};

    /// The audience of the contacts API's tokens.
    pub const AUDIENCE: &str = "api://contacts-api";

    /// `api://contacts-api/Contacts.Read`.
    #[derive(Debug)]
    pub struct ContactsRead;
    impl RequiredScopes for ContactsRead {
        const SCOPES: &'static [&'static str] = &[super::CONTACTS_READ];
    }

    /// What `GET /contacts` answers: whose contacts (the token's `sub`), which app called (`azp`/`client_id`),
    /// and the contacts.
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
    pub struct ContactList {
        /// The user the token was issued for.
        pub owner: String,
        /// The app that called.
        pub caller: Option<String>,
        /// The contacts.
        pub contacts: Vec<String>,
    }

    /// `GET /contacts`, for tokens of audience [`AUDIENCE`] validated by `api`.
    pub fn router(api: &ProtectedApi) -> Router {
        Router::new().route("/contacts", get(list)).with_state(api.clone())
    }

    async fn list(caller: Bearer<ContactsRead>) -> Json<ContactList> {
        Json(ContactList {
            owner: caller.subject().to_owned(),
            caller: caller.client_id().map(str::to_owned),
            contacts: vec![format!("{}'s manager", caller.subject())],
        })
    }
}
