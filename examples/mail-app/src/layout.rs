//! The frame of every page: a header with the app's name, its sections, and the signed-in user with a
//! sign-out button (or a sign-in link), around the page's own content. Also the stylesheet and the live
//! inbox's script, which the pages load from this app only (see the `Content-Security-Policy` below).

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use msal_runtime::{SIGN_IN_PATH, SIGN_OUT_PATH, SignedInUser};

/// A page of the app, ready to be answered: [`Page::new`], then `.user(...)` for the header.
pub(crate) struct Page {
    title: String,
    /// The signed-in user's display name, when someone is signed in.
    user: Option<String>,
    /// The section the page belongs to, highlighted in the header.
    section: Option<Section>,
    status: StatusCode,
    content: Markup,
}

/// The header's links.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Inbox,
    Compose,
    Live,
    Contacts,
}

impl Page {
    pub(crate) fn new(title: impl Into<String>, content: Markup) -> Self {
        Page { title: title.into(), user: None, section: None, status: StatusCode::OK, content }
    }

    /// Shows `user` in the header, with the sign-out button.
    pub(crate) fn user(mut self, user: &SignedInUser) -> Self {
        self.user = Some(display_name(user).to_owned());
        self
    }

    /// Same as [`user`](Self::user), for a page that is also shown signed out.
    pub(crate) fn maybe_user(self, user: Option<&SignedInUser>) -> Self {
        match user {
            Some(user) => self.user(user),
            None => self,
        }
    }

    pub(crate) fn section(mut self, section: Section) -> Self {
        self.section = Some(section);
        self
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn render(&self) -> Markup {
        let link = |section: Section, href: &str, label: &str| {
            html! {
                @if self.section == Some(section) {
                    a href=(href) aria-current="page" { (label) }
                } @else {
                    a href=(href) { (label) }
                }
            }
        };
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · Mail" }
                    link rel="stylesheet" href="/assets/style.css";
                }
                body {
                    header.bar {
                        a.brand href="/" { "✉ Mail" }
                        nav {
                            @if self.user.is_some() {
                                (link(Section::Inbox, "/mail", "Inbox"))
                                (link(Section::Compose, "/mail/compose", "Write"))
                                (link(Section::Live, "/mail/live", "Live inbox"))
                                (link(Section::Contacts, "/contacts", "Contacts"))
                            }
                        }
                        div.account {
                            @if let Some(name) = &self.user {
                                span { "Signed in as " strong #user { (name) } }
                                // POST, so that a link from another site cannot sign the user out.
                                form method="post" action=(SIGN_OUT_PATH) {
                                    button #sign-out type="submit" { "Sign out" }
                                }
                            } @else {
                                a.button #sign-in href={ (SIGN_IN_PATH) "?return_url=/" } { "Sign in" }
                            }
                        }
                    }
                    main {
                        h1 { (self.title) }
                        (self.content)
                    }
                }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.render()).into_response();
        // Pages load their stylesheet and script from this app only, and nothing inline runs.
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'"));
        response
    }
}

/// What the header calls the user: their name, else the name they signed in with.
pub(crate) fn display_name(user: &SignedInUser) -> &str {
    user.name().unwrap_or(user.username())
}

/// `GET /assets/style.css`
pub(crate) async fn stylesheet() -> impl IntoResponse {
    asset("text/css; charset=utf-8", include_str!("assets/style.css"))
}

/// `GET /assets/live.js`: the live inbox's script.
pub(crate) async fn live_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", include_str!("assets/live.js"))
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=300")], body)
}
