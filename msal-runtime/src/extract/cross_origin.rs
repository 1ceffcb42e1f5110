//! The extractors' same-origin check (docs/SECURITY.md §28): a request that may change something (POST,
//! PUT, PATCH, DELETE) for a signed-in user must come from the app's own pages, or from an origin the app
//! trusts (`MsalConfigBuilder::trusted_origins`). On by default for every route that uses the extractors, so
//! an app's forms are protected without a line of its own; a route that takes posts from other sites on
//! purpose opts out with [`AllowCrossOrigin`].

use http::request::Parts;

use crate::msal::Msal;

/// Marks a route whose unsafe requests may come from other origins (a webhook, a form another site posts to
/// on purpose): the extractors then skip their same-origin check for it.
///
/// ```
/// use axum::{Extension, Router, routing::post};
/// use msal_runtime::{AllowCrossOrigin, Msal, SignedInUser};
///
/// async fn hook(user: Option<SignedInUser>) -> &'static str {
///     let _ = user;
///     "ok"
/// }
///
/// let app: Router<Msal> = Router::new().route("/hook", post(hook).layer(Extension(AllowCrossOrigin)));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowCrossOrigin;

/// Whether the request changes something, comes from another origin, and its route did not opt out. The
/// method is looked at first: most requests are GETs, which this answers without reading a header or the
/// route's extensions.
pub(crate) fn is_refused_cross_origin(msal: &Msal, parts: &Parts) -> bool {
    msal.same_origin().is_cross_origin_change(&parts.method, &parts.headers)
        && parts.extensions.get::<AllowCrossOrigin>().is_none()
}
