//! `#[requires_scopes]` for axum handlers; use it through `msal_runtime`, which re-exports it.
//!
//! The macro only checks scopes at compile time and rewrites the handler's signature; the runtime's
//! `AccessTokenFor` extractor does the work at run time (see `msal_runtime`).

mod ast;
mod declared;
mod diagnostics;
mod entry;
mod expand;
mod fallback;
mod parse;
mod resource;
mod validate;

use proc_macro::TokenStream;

/// Runs an axum handler only with a valid access token of the signed-in user for the given scopes.
///
/// ```
/// use axum::extract::{FromRef, State};
/// use axum::{Form, Router, routing::post};
/// use msal_runtime::{AccessToken, Msal, requires_scopes};
///
/// #[derive(Clone)]
/// struct MailApi;
///
/// #[derive(Clone)]
/// struct AppState {
///     msal: Msal,
///     mail_api: MailApi,
/// }
///
/// // The runtime's extractor reaches `Msal` through the router's state.
/// impl FromRef<AppState> for Msal {
///     fn from_ref(state: &AppState) -> Msal {
///         state.msal.clone()
///     }
/// }
///
/// impl FromRef<AppState> for MailApi {
///     fn from_ref(state: &AppState) -> MailApi {
///         state.mail_api.clone()
///     }
/// }
///
/// #[derive(serde::Deserialize)]
/// struct Mail {
///     to: String,
/// }
///
/// #[requires_scopes("Mail.Send")]
/// async fn send(token: AccessToken, State(api): State<MailApi>, Form(mail): Form<Mail>) -> &'static str {
///     // `token` is valid for at least five more minutes and carries Mail.Send.
///     let _ = (token.authorization_header(), api, mail.to);
///     "sent"
/// }
///
/// fn app(msal: Msal) -> Router {
///     Router::new().route("/mail/send", post(send)).with_state(AppState { msal, mail_api: MailApi })
/// }
/// # let _ = app;
/// ```
///
/// The token comes from the user's cache when possible (a hash lookup) and is refreshed when needed, one
/// refresh serving all concurrent requests of the user. When the user has not consented to the scopes, the
/// request is answered for them: a page load goes to the provider and comes back, a `fetch()` gets a 401
/// with a consent URL, a form POST comes back to its form page. The router's state must reach the runtime
/// (`Msal: FromRef<S>`, see `msal_runtime::Msal`): a router that cannot does not compile.
///
/// # Handlers
///
/// The `token: AccessToken` parameter may be anywhere among the other extractors (a body extractor stays
/// last) and bound by any pattern. A handler without one still requires the scopes: consent happens before
/// its body runs. Doc comments and other attributes are kept; put `#[requires_scopes]` above
/// `#[axum::debug_handler]`, which then checks the rewritten signature (name the state when no `State`
/// parameter says it):
///
/// ```
/// use msal_runtime::{Msal, requires_scopes};
///
/// /// The compose page: asks for Mail.Send consent the first time.
/// #[requires_scopes("Mail.Send")]
/// #[axum::debug_handler(state = Msal)]
/// async fn compose() -> &'static str {
///     "<form>…</form>"
/// }
/// # let _ = axum::routing::get::<_, _, Msal>(compose);
/// ```
///
/// # Several resources
///
/// One access token serves one resource (API). A handler calling two asks for two tokens, naming the scopes
/// of each on its parameter:
///
/// ```
/// use msal_runtime::{AccessToken, requires_scopes};
///
/// #[requires_scopes]
/// async fn dashboard(
///     #[scopes("User.Read")] graph: AccessToken,
///     #[scopes("api://contoso/Orders.Read")] orders: AccessToken,
/// ) -> String {
///     format!("{:?} {:?}", graph.expires_on(), orders.expires_on())
/// }
/// # let _ = axum::routing::get::<_, _, msal_runtime::Msal>(dashboard);
/// ```
///
/// # Compile-time checks
///
/// Each mistake is an error on the offending string, with the fix; all of a handler's errors are reported
/// at once: no scopes; an empty, blank or whitespace-holding scope; characters outside RFC 6749's
/// `scope-token`; a non-string or unknown argument; a repeated `permissions`, or one on a parameter; two
/// `#[scopes]` on one parameter; duplicates (case-insensitive); `openid`, `profile`, `offline_access` (the
/// runtime adds them); scopes of two resources in one token; `.default` beside explicit scopes of its
/// resource; a non-`async` function; `self`; several token parameters without `#[scopes]`. A handler with
/// errors still compiles as a handler (with no scopes), so that its route adds no errors of its own; the body
/// is not read, so a mistake in it gets only the compiler's error.
///
/// # Declared permissions
///
/// When the crate declares the permissions its app registration has, any other scope fails the build with a
/// suggestion. In Cargo.toml (this crate's own declares the scopes of these examples):
///
/// ```toml
/// [package.metadata.msal.permissions]
/// default = ["Mail.Read", "Mail.Send", "User.Read"]   # scopes written without a resource (Entra: Graph)
/// "api://contoso" = ["Orders.Read", "Orders.Write"]   # scopes written `api://contoso/Orders.Read`
/// ```
///
/// ```compile_fail
/// use msal_runtime::{AccessToken, requires_scopes};
///
/// #[requires_scopes("Mail.Sned")] // error: `Mail.Sned` is not a declared permission …: did you mean `Mail.Send`?
/// async fn send(token: AccessToken) {}
/// ```
///
/// Editing the declaration rebuilds the crate. `#[requires_scopes("Mail.Send", permissions = "msal.toml")]`
/// reads a file with a `[permissions]` table instead, relative to the source file. Without a declaration
/// only the other checks run. Every handler's scopes are also collected at link time:
/// `msal_runtime::scoped_handlers()`.
///
/// # Expansion
///
/// For the first example, the macro writes this (then the handler's own code, unchanged):
///
#[doc = concat!("```ignore\n", include_str!("snapshots/send.rs"), "```")]
#[proc_macro_attribute]
pub fn requires_scopes(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::requires_scopes(args.into(), item.into()).into()
}
