//! The example web API: one in-memory mailbox per user, behind bearer access tokens.
//!
//! `GET /messages` (needs `Mail.Read`) lists the caller's inbox; `POST /messages` (needs `Mail.Send`) delivers
//! a message to the inbox of the user named in `to` (their `sub`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use msal_runtime::{Bearer, ProtectedApi, RequiredScopes};
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

/// Every user's inbox, by `sub`.
#[derive(Debug, Clone, Default)]
pub struct Mailboxes(Arc<Mutex<HashMap<String, Vec<Message>>>>);

const MAX_FIELD: usize = 256;
const MAX_BODY: usize = 64 * 1024;

/// The API's state: the token validator the `Bearer` extractor uses, and the mailboxes.
#[derive(Debug, Clone)]
struct ApiState {
    api: ProtectedApi,
    mailboxes: Mailboxes,
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

/// The API's router, validating bearer tokens with `api`.
pub fn router(api: &ProtectedApi, mailboxes: Mailboxes) -> Router {
    Router::new().route("/messages", get(list).post(send)).with_state(ApiState { api: api.clone(), mailboxes })
}

async fn list(caller: Bearer<MailRead>, State(mailboxes): State<Mailboxes>) -> Json<Vec<Message>> {
    Json(mailboxes.0.lock().get(caller.subject()).cloned().unwrap_or_default())
}

async fn send(
    caller: Bearer<MailSend>,
    State(mailboxes): State<Mailboxes>,
    Json(message): Json<NewMessage>,
) -> Result<(StatusCode, Json<Message>), (StatusCode, &'static str)> {
    let to = message.to.trim();
    if to.is_empty() || to.len() > MAX_FIELD || message.subject.len() > MAX_FIELD || message.body.len() > MAX_BODY {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "a recipient is required; subject and body are limited in length",
        ));
    }
    let sent_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let message = Message {
        from: caller.subject().to_owned(),
        to: to.to_owned(),
        subject: message.subject,
        body: message.body,
        sent_at,
    };
    mailboxes.0.lock().entry(message.to.clone()).or_default().push(message.clone());
    Ok((StatusCode::CREATED, Json(message)))
}
