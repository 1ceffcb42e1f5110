//! A started sign-in, sealed in the browser's own cookie (docs/SECURITY.md §2, §26).
//!
//! Its `state`, `nonce`, PKCE verifier, return URL and scopes travel with the browser that started it, in a
//! cookie of its own, sealed with AES-GCM and named for its `state`. The server keeps nothing of a sign-in
//! until its callback arrives (see `once`), so a flood of sign-in starts costs it no memory and cannot push
//! out a real user's sign-in; and only the browser that started a sign-in can finish it, since only that
//! browser has its cookie. Several tabs sign in at once with a cookie each; their number per browser is
//! capped, the oldest dropped first.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::settings::ResponseMode;
use crate::scope::set::ScopeSet;
use crate::secret::Secret;
use crate::session::store::Interacted;
use crate::sign_in::pkce::PkceVerifier;
use crate::sign_in::return_url::ReturnUrl;
use crate::web::cookies::{CookieKind, Cookies};

/// The most a transaction may hold, serialized: sealed and base64-encoded it stays under the 4096 bytes a
/// browser keeps of one cookie (RFC 6265 §6.1), with room for its name and attributes.
pub(crate) const MAX_TRANSACTION_BYTES: usize = 2800;

/// Sign-in cookies looked at when a new sign-in starts: enough for any real browser's tabs, and a bound on
/// the work a request stuffed with cookies can cause.
const MAX_COOKIES_EXAMINED: usize = 64;

/// What the callback needs to finish a sign-in.
pub(crate) struct PendingSignIn {
    pub(crate) nonce: Secret,
    pub(crate) verifier: PkceVerifier,
    pub(crate) return_url: ReturnUrl,
    pub(crate) response_mode: ResponseMode,
    /// Everything asked for, the reserved scopes included.
    pub(crate) scopes: ScopeSet,
    /// The consent or re-authentication it was started for (`None`: a plain sign-in).
    pub(crate) interaction: Option<Interacted>,
    /// When it started (Unix seconds): it is refused once the sign-in timeout has passed.
    pub(crate) started_at: u64,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("return_url", &self.return_url)
            .field("response_mode", &self.response_mode)
            .field("scopes", &self.scopes)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// The sealed form: short keys, the secrets as plain strings (the whole is encrypted), bound to its `state`.
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// `state`, so that a cookie cannot answer for another sign-in.
    s: String,
    n: String,
    v: String,
    r: String,
    /// `true`: `form_post`.
    f: bool,
    sc: String,
    /// The scopes (without the reserved ones) were asked for by a consent or re-authentication.
    i: bool,
    /// The re-authentication carried a claims challenge (absent in cookies sealed before it was).
    #[serde(default)]
    ic: bool,
    t: u64,
    /// The nanosecond it was sealed at: orders sign-ins started within the same second, for the cap.
    o: u128,
}

/// Why a sign-in could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransactionError {
    #[error("the sign-in request is too large to keep (its return URL and scopes)")]
    TooLarge,
}

/// The sign-in cookies of one app.
#[derive(Debug, Clone)]
pub(crate) struct Transactions {
    cookies: Cookies,
    lifetime: Duration,
    max_per_browser: usize,
}

impl Transactions {
    pub(crate) fn new(cookies: Cookies, lifetime: Duration, max_per_browser: usize) -> Self {
        Self { cookies, lifetime, max_per_browser }
    }

    /// The `Set-Cookie` values that record `pending` under `state` in this browser, deleting its expired
    /// sign-in cookies and, beyond the cap, its oldest.
    pub(crate) fn begin(
        &self,
        headers: &HeaderMap,
        state: &str,
        pending: &PendingSignIn,
    ) -> Result<Vec<HeaderValue>, TransactionError> {
        let sealed = Sealed {
            s: state.to_owned(),
            n: pending.nonce.expose().to_owned(),
            v: pending.verifier.secret().to_owned(),
            r: pending.return_url.as_str().to_owned(),
            f: pending.response_mode == ResponseMode::FormPost,
            sc: pending.scopes.to_scope_string(),
            i: pending.interaction.is_some(),
            ic: pending.interaction.as_ref().is_some_and(|done| done.claims),
            t: pending.started_at,
            o: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos(),
        };
        let json = serde_json::to_string(&sealed).expect("plain strings serialize");
        if json.len() > MAX_TRANSACTION_BYTES {
            return Err(TransactionError::TooLarge);
        }
        let mut set_cookies = self.make_room(headers, pending.started_at);
        set_cookies.push(self.cookies.set(CookieKind::SignIn(&transaction_id(state)), &json, self.lifetime));
        Ok(set_cookies)
    }

    /// The pending sign-in of `state` in this browser; `None` when the browser has no cookie for it (another
    /// browser, cookies cleared, or the callback already came), or it was tampered with or has expired.
    pub(crate) fn open(&self, headers: &HeaderMap, state: &str, now: u64) -> Option<PendingSignIn> {
        let json = self.cookies.read(headers, CookieKind::SignIn(&transaction_id(state)))?;
        let sealed: Sealed = serde_json::from_str(&json).ok()?;
        if sealed.s != state || self.expired(sealed.t, now) {
            return None;
        }
        let scopes = ScopeSet::parse(&sealed.sc).ok()?;
        Some(PendingSignIn {
            nonce: Secret::new(sealed.n),
            verifier: PkceVerifier::from_secret(sealed.v),
            return_url: ReturnUrl::parse(&sealed.r).ok()?,
            response_mode: if sealed.f { ResponseMode::FormPost } else { ResponseMode::Query },
            interaction: sealed.i.then(|| Interacted { scopes: scopes.without_reserved(), claims: sealed.ic }),
            scopes,
            started_at: sealed.t,
        })
    }

    /// The `Set-Cookie` value that deletes the cookie of `state`: once its callback has come, it has served.
    pub(crate) fn end(&self, state: &str) -> HeaderValue {
        self.cookies.clear(CookieKind::SignIn(&transaction_id(state)))
    }

    /// When a sign-in started at `started_at` stops being accepted (Unix seconds).
    pub(crate) fn deadline(&self, started_at: u64) -> u64 {
        started_at.saturating_add(self.lifetime.as_secs())
    }

    fn expired(&self, started_at: u64, now: u64) -> bool {
        self.deadline(started_at) <= now
    }

    /// Deletions for the browser's sign-in cookies that are expired or unreadable, and for its oldest beyond
    /// the cap, so that the new one makes at most `max_per_browser`.
    fn make_room(&self, headers: &HeaderMap, now: u64) -> Vec<HeaderValue> {
        let mut live: Vec<((u64, u128), String)> = Vec::new();
        let mut deletions = Vec::new();
        for id in self.cookies.sign_in_ids(headers).into_iter().take(MAX_COOKIES_EXAMINED) {
            let started_at = self
                .cookies
                .read(headers, CookieKind::SignIn(&id))
                .and_then(|json| serde_json::from_str::<Sealed>(&json).ok())
                .map(|sealed| (sealed.t, sealed.o))
                .filter(|(started_at, _)| !self.expired(*started_at, now));
            match started_at {
                Some(started_at) => live.push((started_at, id)),
                None => deletions.push(self.cookies.clear(CookieKind::SignIn(&id))),
            }
        }
        live.sort();
        let excess = (live.len() + 1).saturating_sub(self.max_per_browser);
        deletions.extend(live.iter().take(excess).map(|(_, id)| self.cookies.clear(CookieKind::SignIn(id))));
        deletions
    }
}

/// The name a sign-in's cookie goes by: 96 bits of the SHA-256 of its `state`, so that the callback finds it
/// from the `state` alone and a cookie cannot be guessed from anything else.
fn transaction_id(state: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(state.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use cookie::Key;
    use http::header::COOKIE;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn transactions(max_per_browser: usize) -> Transactions {
        Transactions::new(Cookies::new(Key::generate(), true, false), Duration::from_secs(600), max_per_browser)
    }

    fn pending(return_url: &str, started_at: u64) -> PendingSignIn {
        PendingSignIn {
            nonce: Secret::new("nonce"),
            verifier: PkceVerifier::generate(),
            return_url: ReturnUrl::parse(return_url).unwrap(),
            response_mode: ResponseMode::Query,
            scopes: ScopeSet::parse("openid profile offline_access Mail.Read").unwrap(),
            interaction: None,
            started_at,
        }
    }

    /// The request a browser sends after receiving `set_cookies` (deletions remove cookies).
    fn browser_after(
        mut jar: Vec<(String, String)>,
        set_cookies: &[HeaderValue],
    ) -> (Vec<(String, String)>, HeaderMap) {
        for header in set_cookies {
            let cookie = cookie::Cookie::parse(header.to_str().unwrap().to_owned()).unwrap();
            jar.retain(|(name, _)| name != cookie.name());
            if cookie.max_age() != Some(cookie::time::Duration::ZERO) {
                jar.push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
        }
        let mut headers = HeaderMap::new();
        let line: Vec<String> = jar.iter().map(|(name, value)| format!("{name}={value}")).collect();
        if !line.is_empty() {
            headers.insert(COOKIE, HeaderValue::from_str(&line.join("; ")).unwrap());
        }
        (jar, headers)
    }

    #[test]
    fn a_sign_in_opens_only_in_its_browser_for_its_state_until_it_expires() {
        let transactions = transactions(10);
        let set = transactions.begin(&HeaderMap::new(), "state-1", &pending("/a?b=c", NOW)).unwrap();
        let (_, headers) = browser_after(Vec::new(), &set);
        let opened = transactions.open(&headers, "state-1", NOW + 1).expect("opens in its browser");
        assert_eq!(opened.return_url.as_str(), "/a?b=c");
        assert_eq!(opened.scopes, ScopeSet::parse("openid profile offline_access Mail.Read").unwrap());
        assert_eq!(opened.nonce.expose(), "nonce");
        assert!(opened.interaction.is_none());
        assert!(transactions.open(&headers, "state-2", NOW + 1).is_none(), "another state");
        assert!(transactions.open(&HeaderMap::new(), "state-1", NOW + 1).is_none(), "another browser");
        assert!(transactions.open(&headers, "state-1", NOW + 600).is_none(), "expired");
        let other_key = Transactions::new(Cookies::new(Key::generate(), true, false), Duration::from_secs(600), 10);
        assert!(other_key.open(&headers, "state-1", NOW + 1).is_none(), "sealed with another key");
    }

    #[test]
    fn a_cookie_cannot_answer_for_another_state() {
        let transactions = transactions(10);
        let set = transactions.begin(&HeaderMap::new(), "state-1", &pending("/", NOW)).unwrap();
        // The sealed value of state-1's cookie, presented under the name state-2's would have.
        let value = set[0].to_str().unwrap().split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
        let moved = format!("__Host-msal_signin_{}={value}", transaction_id("state-2"));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&moved).unwrap());
        assert!(transactions.open(&headers, "state-2", NOW).is_none());
    }

    #[test]
    fn each_browser_keeps_its_newest_sign_ins_up_to_the_cap() {
        let transactions = transactions(2);
        let mut jar = Vec::new();
        for (index, state) in ["s1", "s2", "s3"].iter().enumerate() {
            let (_, headers) = browser_after(jar.clone(), &[]);
            let set = transactions.begin(&headers, state, &pending("/", NOW + index as u64)).unwrap();
            jar = browser_after(jar, &set).0;
        }
        let (_, headers) = browser_after(jar, &[]);
        assert!(transactions.open(&headers, "s1", NOW + 5).is_none(), "the oldest is dropped");
        assert!(transactions.open(&headers, "s2", NOW + 5).is_some());
        assert!(transactions.open(&headers, "s3", NOW + 5).is_some());
    }

    #[test]
    fn expired_and_unreadable_sign_in_cookies_are_deleted_at_the_next_start() {
        let transactions = transactions(10);
        let set = transactions.begin(&HeaderMap::new(), "old", &pending("/", NOW - 3600)).unwrap();
        let (mut jar, _) = browser_after(Vec::new(), &set);
        jar.push(("__Host-msal_signin_garbage".to_owned(), "not-sealed".to_owned()));
        let (_, headers) = browser_after(jar, &[]);
        let set = transactions.begin(&headers, "new", &pending("/", NOW)).unwrap();
        let deleted = set.iter().filter(|header| header.to_str().unwrap().contains("Max-Age=0")).count();
        assert_eq!(deleted, 2, "{set:?}");
    }

    #[test]
    fn a_transaction_too_large_for_a_cookie_is_refused() {
        let transactions = transactions(10);
        let mut long = pending(&format!("/{}", "a".repeat(2000)), NOW);
        long.scopes =
            ScopeSet::parse(&(0..60).map(|i| format!("api://contoso/Scope{i}.Read")).collect::<Vec<_>>().join(" "))
                .unwrap();
        assert_eq!(transactions.begin(&HeaderMap::new(), "s", &long).unwrap_err(), TransactionError::TooLarge);
        let longest = pending(&format!("/{}", "a".repeat(2047)), NOW);
        let set = transactions.begin(&HeaderMap::new(), "s", &longest).unwrap();
        assert!(set[0].len() < 4096, "a browser keeps the longest return URL's cookie: {} bytes", set[0].len());
    }
}
