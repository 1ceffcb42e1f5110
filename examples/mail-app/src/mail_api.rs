//! The mail API, called with the signed-in user's token: [`AccessToken::call`] attaches it and turns the
//! API's claims challenge or missing-scope answer into a [`DownstreamError`] the handler returns with `?`.

use msal_runtime::AccessToken;
use msal_runtime::error::DownstreamError;
use serde::{Deserialize, Serialize};
use url::Url;

/// Where the mail API is, and the HTTP client that calls it.
#[derive(Debug, Clone)]
pub(crate) struct MailApi {
    http: reqwest::Client,
    messages: Url,
    contacts: Url,
}

/// A message as the mail API lists it.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Message {
    pub(crate) from: String,
    pub(crate) subject: String,
    pub(crate) body: String,
}

/// What the mail API answers on `GET /contacts` (the fields the app shows).
#[derive(Debug, Deserialize)]
struct ContactList {
    contacts: Vec<String>,
}

/// A message to send, as the compose form posts it and the mail API takes it.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct NewMessage {
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) body: String,
}

impl MailApi {
    pub(crate) fn new(http: reqwest::Client, base: &Url) -> Self {
        // `join` replaces the last segment of a base without a trailing slash.
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let messages = base.join("messages").expect("a relative path joins any http(s) URL");
        let contacts = base.join("contacts").expect("a relative path joins any http(s) URL");
        MailApi { http, messages, contacts }
    }

    /// The user's inbox (`GET /messages`, needs `Mail.Read`).
    pub(crate) async fn inbox(&self, token: &AccessToken) -> Result<Vec<Message>, DownstreamError> {
        Ok(token.call(self.http.get(self.messages.clone())).await?.error_for_status()?.json().await?)
    }

    /// The user's contacts (`GET /contacts`, needs `Mail.Read`): the mail API reads them from the contacts API
    /// on the user's behalf, and passes back that exchange's claims challenge as its own.
    pub(crate) async fn contacts(&self, token: &AccessToken) -> Result<Vec<String>, DownstreamError> {
        let list: ContactList =
            token.call(self.http.get(self.contacts.clone())).await?.error_for_status()?.json().await?;
        Ok(list.contacts)
    }

    /// Sends `message` (`POST /messages`, needs `Mail.Send`).
    pub(crate) async fn send(&self, token: &AccessToken, message: &NewMessage) -> Result<(), DownstreamError> {
        token.call(self.http.post(self.messages.clone()).json(message)).await?.error_for_status()?;
        Ok(())
    }
}
