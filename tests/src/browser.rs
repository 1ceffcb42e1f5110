//! A browser for tests: an HTTP client with its own cookie jar that follows nothing by itself, plus the steps
//! a user takes at node-oidc-provider's login and consent pages.

use std::sync::Arc;

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use url::Url;

/// What the provider sends back to the app at the end of an authorization request.
#[derive(Debug, Clone)]
pub enum AuthorizationResponse {
    /// `response_mode=query`: the callback URL with `code`, `state`, `iss` (not visited yet).
    Redirect(Url),
    /// `response_mode=form_post`: the auto-submitting form's action and fields (not submitted yet).
    FormPost { action: Url, fields: Vec<(String, String)> },
}

impl AuthorizationResponse {
    /// The callback's parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        match self {
            AuthorizationResponse::Redirect(url) => url.query_pairs().into_owned().collect(),
            AuthorizationResponse::FormPost { fields, .. } => fields.clone(),
        }
    }

    /// The same response with parameters changed (`None` removes one).
    pub fn with_param(&self, name: &str, value: Option<&str>) -> AuthorizationResponse {
        let mut params: Vec<(String, String)> = self.params().into_iter().filter(|(n, _)| n != name).collect();
        if let Some(value) = value {
            params.push((name.to_owned(), value.to_owned()));
        }
        match self {
            AuthorizationResponse::Redirect(url) => {
                let mut url = url.clone();
                url.query_pairs_mut().clear().extend_pairs(params);
                AuthorizationResponse::Redirect(url)
            }
            AuthorizationResponse::FormPost { action, .. } => {
                AuthorizationResponse::FormPost { action: action.clone(), fields: params }
            }
        }
    }
}

/// A browser with its own cookies.
#[derive(Debug, Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub fn new() -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { client, jar }
    }

    /// The `Cookie` header this browser would send to `url`.
    pub fn cookie_header(&self, url: &Url) -> Option<String> {
        use reqwest::cookie::CookieStore;
        self.jar.cookies(url).map(|value| value.to_str().unwrap().to_owned())
    }

    /// `GET url`.
    pub async fn get(&self, url: impl AsRef<str>) -> Response {
        self.client.get(url.as_ref()).send().await.expect("GET")
    }

    /// `GET url` with extra headers.
    pub async fn get_with(&self, url: impl AsRef<str>, headers: &[(&str, &str)]) -> Response {
        let mut request = self.client.get(url.as_ref());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("GET")
    }

    /// `POST url` with a form body and extra headers.
    pub async fn post_form(
        &self,
        url: impl AsRef<str>,
        form: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client.post(url.as_ref()).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    /// Delivers an authorization response to the app's callback, as the browser would.
    pub async fn deliver(&self, response: &AuthorizationResponse) -> Response {
        match response {
            AuthorizationResponse::Redirect(url) => self.get(url).await,
            AuthorizationResponse::FormPost { action, fields } => {
                // The provider's page posts cross-site from the provider's origin.
                let origin = "null";
                self.post_form(action, fields, &[("Origin", origin)]).await
            }
        }
    }

    /// Follows the provider's authorization request as user `login` would: signs in when asked, consents
    /// when asked, and stops at the response to the app (`app_origin`).
    pub async fn authorize(&self, authorize_url: &str, login: &str, app_origin: &Url) -> AuthorizationResponse {
        let mut url = Url::parse(authorize_url).unwrap();
        for _ in 0..12 {
            let response = self.get(url.as_str()).await;
            match response.status() {
                StatusCode::SEE_OTHER | StatusCode::FOUND => {
                    let next = url.join(location(&response)).unwrap();
                    if next.origin() == app_origin.origin() {
                        return AuthorizationResponse::Redirect(next);
                    }
                    url = next;
                }
                StatusCode::OK => {
                    let page = response.text().await.unwrap();
                    if let Some(form) = form_post(&page, app_origin) {
                        return form;
                    }
                    let prompt = if page.contains("name=\"login\"") { "login" } else { "consent" };
                    let form = vec![
                        ("prompt".to_owned(), prompt.to_owned()),
                        ("login".to_owned(), login.to_owned()),
                        ("password".to_owned(), "any password".to_owned()),
                    ];
                    let response = self.post_form(url.as_str(), &form, &[]).await;
                    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{prompt} at the provider");
                    url = url.join(location(&response)).unwrap();
                }
                status => panic!("unexpected {status} from the provider at {url}: {}", response.text().await.unwrap()),
            }
        }
        panic!("the authorization request did not come back to the app")
    }

    /// Like [`authorize`](Self::authorize), but the user cancels at the provider's first page.
    pub async fn authorize_and_cancel(&self, authorize_url: &str, app_origin: &Url) -> AuthorizationResponse {
        let response = self.get(authorize_url).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let interaction = Url::parse(authorize_url).unwrap().join(location(&response)).unwrap();
        let mut url = Url::parse(&format!("{interaction}/abort")).unwrap();
        for _ in 0..4 {
            let response = self.get(url.as_str()).await;
            let next = url.join(location(&response)).unwrap();
            if next.origin() == app_origin.origin() {
                return AuthorizationResponse::Redirect(next);
            }
            url = next;
        }
        panic!("cancelling did not come back to the app")
    }

    /// Signs out at the provider's RP-initiated logout page (answering "Yes, sign me out") and returns where
    /// the provider sends the browser afterwards.
    pub async fn confirm_provider_logout(&self, end_session_url: &str) -> Url {
        let url = Url::parse(end_session_url).unwrap();
        let page = self.get(url.as_str()).await.text().await.unwrap();
        let action = attribute(&page, "id=\"op.logoutForm\"", "action").expect("the provider's logout form");
        let xsrf = hidden_value(&page, "xsrf").expect("the logout form's xsrf field");
        let form = vec![("xsrf".to_owned(), xsrf), ("logout".to_owned(), "yes".to_owned())];
        let response = self.post_form(url.join(&action).unwrap().as_str(), &form, &[]).await;
        let mut next = url.join(location(&response)).unwrap();
        // The provider may pass through its own success route before leaving.
        for _ in 0..4 {
            if next.origin() != url.origin() {
                return next;
            }
            let response = self.get(next.as_str()).await;
            if !response.status().is_redirection() {
                return next;
            }
            next = next.join(location(&response)).unwrap();
        }
        next
    }
}

/// The `Location` header of a redirect.
pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location in a {} response", response.status()))
        .to_str()
        .unwrap()
}

/// The first value of query parameter `name` in an absolute `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).unwrap().query_pairs().find(|(n, _)| n == name).map(|(_, value)| value.into_owned())
}

/// Form fields for [`Browser::post_form`], from string pairs.
pub fn form_fields(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// The `Set-Cookie` headers of a response that give the browser a cookie; deletions (`Max-Age=0`, such as
/// the callback's of the sign-in cookie that has served) are left out.
pub fn stored_cookies(response: &Response) -> Vec<String> {
    set_cookies(response).into_iter().filter(|cookie| !cookie.contains("Max-Age=0")).collect()
}

/// node-oidc-provider's form_post page: `<form method="post" action="…">` with hidden inputs.
fn form_post(page: &str, app_origin: &Url) -> Option<AuthorizationResponse> {
    let action = Url::parse(&attribute(page, "method=\"post\"", "action")?).ok()?;
    if action.origin() != app_origin.origin() {
        return None;
    }
    let mut fields = Vec::new();
    for input in page.split("<input").skip(1) {
        let name = value_of(input, "name")?;
        let value = value_of(input, "value").unwrap_or_default();
        fields.push((name, html_unescape(&value)));
    }
    Some(AuthorizationResponse::FormPost { action, fields })
}

fn hidden_value(page: &str, name: &str) -> Option<String> {
    page.split("<input")
        .skip(1)
        .find(|input| value_of(input, "name").as_deref() == Some(name))
        .and_then(|input| value_of(input, "value"))
}

/// The value of `attribute` in the first tag containing `marker`.
fn attribute(page: &str, marker: &str, attribute: &str) -> Option<String> {
    let at = page.find(marker)?;
    let start = page[..at].rfind('<')?;
    let end = at + page[at..].find('>')?;
    value_of(&page[start..end], attribute)
}

fn value_of(tag: &str, attribute: &str) -> Option<String> {
    let needle = format!("{attribute}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
