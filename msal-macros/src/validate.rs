//! Every rule of `#[requires_scopes]`, one function each, judging what `parse` read: each error is spanned
//! on the offending code and says the fix, and all of a handler's errors are reported at once.

use syn::Signature;

use crate::ast::{Handler, Param, ScopeList, ScopeLit};
use crate::declared::Declared;
use crate::diagnostics::Diagnostics;
use crate::resource::{self, Resource};

/// Added by the runtime to every sign-in (OpenID Connect Core §3.1.2.1, §11).
const RESERVED: [&str; 3] = ["openid", "profile", "offline_access"];

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Every rule, each reporting where the mistake is written. `declared`: the crate's declared permissions.
pub(crate) fn handler(handler: &Handler, declared: Option<&Declared>, diagnostics: &mut Diagnostics) {
    is_async(&handler.sig, diagnostics);
    no_self(&handler.sig, diagnostics);
    one_permissions_argument(&handler.args, diagnostics);
    for param in &handler.params {
        one_scopes_attribute(param, diagnostics);
        scopes_only_on_a_token(param, diagnostics);
        permissions_only_on_the_handler(param, diagnostics);
    }
    each_token_named(handler, diagnostics);
    scopes_go_to_a_token(handler, diagnostics);
    for list in lists_in_use(handler) {
        token_scopes(list, declared, diagnostics);
    }
}

/// An axum handler is an `async fn`.
fn is_async(sig: &Signature, diagnostics: &mut Diagnostics) {
    if sig.asyncness.is_none() {
        diagnostics.error(
            sig.fn_token.span,
            "`#[requires_scopes]` goes on an axum handler, which must be an `async fn`: write `async fn`",
        );
    }
}

/// A method cannot be a route's handler, and its `impl` block cannot hold the marker types.
fn no_self(sig: &Signature, diagnostics: &mut Diagnostics) {
    if let Some(receiver) = sig.receiver() {
        diagnostics.error(
            receiver.self_token.span,
            "`#[requires_scopes]` handlers cannot take `self`: make it a free function and pass what it needs \
             with `State`",
        );
    }
}

/// The declared permissions come from one file; a second `permissions = …` would be silently ignored.
fn one_permissions_argument(args: &ScopeList, diagnostics: &mut Diagnostics) {
    let Some((first, repeated)) = args.permissions.split_first() else { return };
    for permissions in repeated {
        let message = format!("`permissions` is already set to `\"{}\"`: remove this one", first.path.value());
        diagnostics.error(permissions.span, message);
    }
}

/// A token gets the scopes of one `#[scopes(...)]`; a second would be silently ignored.
fn one_scopes_attribute(param: &Param, diagnostics: &mut Diagnostics) {
    if param.scopes.len() < 2 {
        return;
    }
    let all: Vec<String> =
        param.scopes.iter().flat_map(|list| &list.scopes).map(|scope| format!("\"{}\"", scope.value)).collect();
    let all = if all.is_empty() { "\"...\"".to_owned() } else { all.join(", ") };
    for list in &param.scopes[1..] {
        let message =
            format!("this parameter already has `#[scopes(...)]`: list all its scopes in one, `#[scopes({all})]`");
        diagnostics.error(list.span, message);
    }
}

/// Scopes on another extractor would be silently ignored.
fn scopes_only_on_a_token(param: &Param, diagnostics: &mut Diagnostics) {
    if let Some(list) = param.scopes.first().filter(|_| !param.is_token) {
        diagnostics.error(list.span, "`#[scopes(...)]` goes on a parameter of type `AccessToken`");
    }
}

/// The declared permissions are the handler's, read once for all its tokens.
fn permissions_only_on_the_handler(param: &Param, diagnostics: &mut Diagnostics) {
    for permissions in param.scopes.iter().flat_map(|list| &list.permissions) {
        diagnostics.error(
            permissions.span,
            "`permissions` goes on the handler's `#[requires_scopes(...)]`, not on a parameter: move it there",
        );
    }
}

/// Of several tokens, at most one takes the attribute's scopes; which one would be a guess.
fn each_token_named(handler: &Handler, diagnostics: &mut Diagnostics) {
    let unnamed = handler.tokens().filter(|param| param.scopes.is_empty());
    for param in unnamed.skip(1) {
        diagnostics.error(
            param.span,
            "this handler takes more than one `AccessToken`: say which scopes each gets with `#[scopes(\"...\")]` \
             on each of them",
        );
    }
}

/// The attribute's scopes go to the token without `#[scopes(...)]`; with none, they would be lost.
fn scopes_go_to_a_token(handler: &Handler, diagnostics: &mut Diagnostics) {
    let mut tokens = handler.tokens().peekable();
    let every_token_named = tokens.peek().is_some() && tokens.all(|param| !param.scopes.is_empty());
    if let Some(first) = handler.args.scopes.first().filter(|_| every_token_named) {
        diagnostics.error(
            first.span,
            "these scopes go to no token: every `AccessToken` parameter names its own with `#[scopes(...)]`; \
             remove them here",
        );
    }
}

/// The scope lists that tokens get, each once (several unnamed tokens share the attribute's).
fn lists_in_use(handler: &Handler) -> Vec<&ScopeList> {
    let mut lists: Vec<&ScopeList> = Vec::new();
    for request in handler.requests() {
        if !lists.iter().any(|list| std::ptr::eq(*list, request.scopes)) {
            lists.push(request.scopes);
        }
    }
    lists
}

/// The scopes of one token: each malformed or reserved one, then the rules among the rest.
fn token_scopes(list: &ScopeList, declared: Option<&Declared>, diagnostics: &mut Diagnostics) {
    if !has_scopes(list, diagnostics) {
        return;
    }
    let well_formed: Vec<&ScopeLit> = list.scopes.iter().filter(|scope| well_formed(scope, diagnostics)).collect();
    let allowed: Vec<&ScopeLit> = well_formed.into_iter().filter(|scope| not_reserved(scope, diagnostics)).collect();
    let distinct = distinct(&allowed, diagnostics);
    one_resource(&distinct, diagnostics);
    default_alone(&distinct, diagnostics);
    if let Some(declared) = declared {
        for scope in &distinct {
            is_declared(scope, declared, diagnostics);
        }
    }
}

/// A token without scopes would be requested for nothing. Returns whether there are scopes to check.
fn has_scopes(list: &ScopeList, diagnostics: &mut Diagnostics) -> bool {
    if !list.scopes.is_empty() {
        return true;
    }
    // An unreadable argument was reported already; "no scopes" would only repeat it.
    if !list.unreadable {
        let attribute = list.site.attribute();
        let message = format!("no scopes: name the scopes the handler needs, like `#[{attribute}(\"Mail.Read\")]`");
        diagnostics.error(list.span, message);
    }
    false
}

/// RFC 6749 §3.3's syntax of a scope. Returns whether `scope` follows it.
fn well_formed(scope: &ScopeLit, diagnostics: &mut Diagnostics) -> bool {
    let value = &scope.value;
    let trimmed = value.trim();
    let problem = if trimmed.is_empty() {
        if value.is_empty() {
            "a scope cannot be empty: remove `\"\"`".to_owned()
        } else {
            "a scope cannot be blank: remove it".to_owned()
        }
    } else if trimmed.contains(char::is_whitespace) {
        let parts: Vec<String> = trimmed.split_whitespace().map(|part| format!("\"{part}\"")).collect();
        format!("a scope cannot contain whitespace: write each scope as its own string, `{}`", parts.join(", "))
    } else if trimmed != value {
        format!("a scope cannot contain whitespace: write `\"{trimmed}\"`")
    } else if let Some(bad) = value.chars().find(|c| !is_scope_char(*c)) {
        let shown = if bad.is_control() { bad.escape_default().to_string() } else { bad.to_string() };
        format!("`{value}` contains `{shown}`, which RFC 6749 (§3.3) does not allow in a scope")
    } else {
        return true;
    };
    diagnostics.error(scope.span, problem);
    false
}

/// The runtime adds the reserved scopes to every sign-in. Returns whether `scope` is not one.
fn not_reserved(scope: &ScopeLit, diagnostics: &mut Diagnostics) -> bool {
    if !RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(&scope.value)) {
        return true;
    }
    diagnostics.error(scope.span, format!("`{}` is requested by the runtime at every sign-in: remove it", scope.value));
    false
}

/// Scopes are case-insensitive; each is listed once. Returns the first of each.
fn distinct<'a>(scopes: &[&'a ScopeLit], diagnostics: &mut Diagnostics) -> Vec<&'a ScopeLit> {
    let mut distinct: Vec<&ScopeLit> = Vec::new();
    for scope in scopes {
        if let Some(first) = distinct.iter().find(|seen| seen.value.eq_ignore_ascii_case(&scope.value)) {
            let hint = if first.value == scope.value {
                String::new()
            } else {
                format!(" as `{}` (scopes are case-insensitive)", first.value)
            };
            diagnostics.error(scope.span, format!("`{}` is already listed{hint}: remove it", scope.value));
            continue;
        }
        distinct.push(scope);
    }
    distinct
}

/// One access token serves one resource (Entra refuses scopes of two in one request).
fn one_resource(scopes: &[&ScopeLit], diagnostics: &mut Diagnostics) {
    let Some(first) = scopes.first() else { return };
    let (expected, _) = resource::split(&first.value);
    for scope in &scopes[1..] {
        let (found, _) = resource::split(&scope.value);
        if found != expected {
            diagnostics.error(
                scope.span,
                format!(
                    "scopes of two resources in one token: `{}` is for {expected}, `{}` for {found}; one token \
                     serves one resource, so give each resource its own `AccessToken` parameter with \
                     `#[scopes(\"...\")]`",
                    first.value, scope.value
                ),
            );
            return;
        }
    }
}

/// `.default` means every permission granted for the resource; explicit ones beside it are contradictory.
fn default_alone(scopes: &[&ScopeLit], diagnostics: &mut Diagnostics) {
    let Some(default) = scopes.iter().find(|scope| resource::split(&scope.value).1 == ".default") else { return };
    let (resource, _) = resource::split(&default.value);
    for scope in scopes {
        let (other_resource, name) = resource::split(&scope.value);
        if name != ".default" && other_resource == resource {
            diagnostics.error(
                scope.span,
                format!(
                    "`{}` already stands for every permission granted for {resource}: remove `{}`, or replace \
                     `.default` with the scopes you need",
                    default.value, scope.value
                ),
            );
        }
    }
}

/// The app's registration grants only the declared permissions (when the crate declares them).
fn is_declared(scope: &ScopeLit, declared: &Declared, diagnostics: &mut Diagnostics) {
    let (resource, name) = resource::split(&scope.value);
    if declared.allows(&resource, name) {
        return;
    }
    let source = &declared.source;
    let message = match (declared.names(&resource), declared.closest(&resource, name)) {
        (_, Some(closest)) => {
            let suggestion = match &resource {
                Resource::Named(_) if closest != name => scope.value.replace(name, closest),
                _ => closest.to_owned(),
            };
            format!("`{}` is not a declared permission ({source}): did you mean `{suggestion}`?", scope.value)
        }
        (Some(names), None) => format!(
            "`{}` is not a declared permission ({source}); declared for {resource}: {}",
            scope.value,
            names.join(", ")
        ),
        (None, None) => format!("`{}` is for {resource}, which declares no permissions ({source})", scope.value),
    };
    diagnostics.error(scope.span, message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Site;
    use crate::parse;
    use proc_macro2::{Span, TokenStream};
    use quote::quote;

    fn check(values: &[&str]) -> Vec<String> {
        let mut list = ScopeList::new(Site::Handler, Span::call_site());
        list.scopes =
            values.iter().map(|value| ScopeLit { value: (*value).to_owned(), span: Span::call_site() }).collect();
        let mut diagnostics = Diagnostics::default();
        token_scopes(&list, None, &mut diagnostics);
        diagnostics.messages()
    }

    /// The errors of a handler read by `parse` (which must read it without any).
    fn check_handler(args: TokenStream, item: TokenStream) -> Vec<String> {
        let mut diagnostics = Diagnostics::default();
        let args = parse::args(args, &mut diagnostics);
        let handler = parse::handler(item, args, &mut diagnostics).unwrap();
        assert!(diagnostics.is_empty(), "parse reported {:?}", diagnostics.messages());
        let mut diagnostics = Diagnostics::default();
        super::handler(&handler, None, &mut diagnostics);
        diagnostics.messages()
    }

    #[test]
    fn accepts_well_formed_scopes_of_one_resource() {
        assert!(check(&["Mail.Read", "Mail.Send"]).is_empty());
        assert!(check(&["api://contoso/Orders.Read", "api://contoso/Orders.Write"]).is_empty());
        assert!(check(&["https://graph.microsoft.com/Mail.Read", "User.Read"]).is_empty(), "Graph is the default");
        assert!(check(&["api://contoso/.default"]).is_empty());
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let messages = check(&["", "  ", "Mail Read", " Mail.Send", "Mail\"Read", "openid", "User.Read", "user.read"]);
        assert_eq!(messages.len(), 7, "{messages:#?}");
        assert_eq!(messages[0], "a scope cannot be empty: remove `\"\"`");
        assert_eq!(messages[1], "a scope cannot be blank: remove it");
        assert_eq!(
            messages[2],
            "a scope cannot contain whitespace: write each scope as its own string, `\"Mail\", \"Read\"`"
        );
        assert_eq!(messages[3], "a scope cannot contain whitespace: write `\"Mail.Send\"`");
        assert_eq!(messages[4], "`Mail\"Read` contains `\"`, which RFC 6749 (§3.3) does not allow in a scope");
        assert_eq!(messages[5], "`openid` is requested by the runtime at every sign-in: remove it");
        assert_eq!(
            messages[6],
            "`user.read` is already listed as `User.Read` (scopes are case-insensitive): remove it"
        );
    }

    #[test]
    fn one_token_one_resource_and_default_alone() {
        let messages = check(&["Mail.Read", "api://contoso/Orders.Read"]);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("scopes of two resources in one token"), "{}", messages[0]);
        let messages = check(&["api://contoso/.default", "api://contoso/Orders.Read"]);
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("`api://contoso/.default` already stands for every permission"),
            "{}",
            messages[0]
        );
        assert_eq!(
            check(&[]),
            ["no scopes: name the scopes the handler needs, like `#[requires_scopes(\"Mail.Read\")]`"]
        );
    }

    #[test]
    fn the_rfc6749_character_set_matches_the_runtime() {
        for c in (0u8..=127).map(char::from).chain(['é', '€']) {
            let runtime = msal_runtime::Scope::new(&c.to_string()).is_ok();
            assert_eq!(is_scope_char(c), runtime, "{c:?}");
        }
        for reserved in RESERVED {
            assert!(msal_runtime::RESERVED_SCOPES.contains(&reserved));
        }
    }

    #[test]
    fn accepts_a_well_formed_handler() {
        assert!(
            check_handler(
                quote!("Mail.Read"),
                quote!(
                    async fn inbox(token: AccessToken) {}
                )
            )
            .is_empty()
        );
        let several = quote! {
            async fn h(mail: AccessToken, #[scopes("api://contoso/Orders.Read")] orders: AccessToken) {}
        };
        assert!(check_handler(quote!("Mail.Read", permissions = "msal.toml"), several).is_empty());
    }

    #[test]
    fn the_shape_of_the_handler() {
        assert_eq!(
            check_handler(
                quote!("Mail.Read"),
                quote!(
                    fn inbox(&self) {}
                )
            ),
            [
                "`#[requires_scopes]` goes on an axum handler, which must be an `async fn`: write `async fn`",
                "`#[requires_scopes]` handlers cannot take `self`: make it a free function and pass what it needs \
                 with `State`",
            ]
        );
    }

    #[test]
    fn each_argument_and_attribute_once_and_in_its_place() {
        assert_eq!(
            check_handler(
                quote!("Mail.Read", permissions = "a.toml", permissions = "b.toml"),
                quote!(
                    async fn h() {}
                )
            ),
            ["`permissions` is already set to `\"a.toml\"`: remove this one"]
        );
        assert_eq!(
            check_handler(
                quote!(),
                quote!(
                    async fn h(
                        #[scopes("User.Read")]
                        #[scopes("Mail.Read")]
                        t: AccessToken,
                    ) {
                    }
                )
            ),
            [
                "this parameter already has `#[scopes(...)]`: list all its scopes in one, `#[scopes(\"User.Read\", \"Mail.Read\")]`"
            ]
        );
        assert_eq!(
            check_handler(
                quote!(),
                quote!(
                    async fn h(#[scopes("User.Read", permissions = "a.toml")] t: AccessToken) {}
                )
            ),
            ["`permissions` goes on the handler's `#[requires_scopes(...)]`, not on a parameter: move it there"]
        );
        assert_eq!(
            check_handler(
                quote!("Mail.Read"),
                quote!(
                    async fn h(#[scopes("User.Read")] State(s): State<S>) {}
                )
            ),
            ["`#[scopes(...)]` goes on a parameter of type `AccessToken`"]
        );
    }

    #[test]
    fn every_token_gets_its_scopes() {
        let messages = check_handler(
            quote!("Mail Read"),
            quote!(
                async fn h(a: AccessToken, b: AccessToken) {}
            ),
        );
        assert_eq!(messages.len(), 2, "the shared list is checked once: {messages:#?}");
        assert!(messages[0].starts_with("this handler takes more than one `AccessToken`"), "{}", messages[0]);
        assert!(messages[1].starts_with("a scope cannot contain whitespace"), "{}", messages[1]);
        let messages = check_handler(
            quote!("Mail.Read"),
            quote!(
                async fn h(#[scopes("User.Read")] graph: AccessToken) {}
            ),
        );
        assert_eq!(
            messages,
            ["these scopes go to no token: every `AccessToken` parameter names its own with `#[scopes(...)]`; \
                 remove them here"]
        );
        assert_eq!(
            check_handler(
                quote!(),
                quote!(
                    async fn h(#[scopes()] graph: AccessToken) {}
                )
            ),
            ["no scopes: name the scopes the handler needs, like `#[scopes(\"Mail.Read\")]`"]
        );
    }

    #[test]
    fn no_scopes_is_not_said_again_after_an_unreadable_argument() {
        let mut diagnostics = Diagnostics::default();
        let args = parse::args(quote!(Mail.Read), &mut diagnostics);
        let handler = parse::handler(
            quote!(
                async fn h() {}
            ),
            args,
            &mut diagnostics,
        )
        .unwrap();
        super::handler(&handler, None, &mut diagnostics);
        assert_eq!(diagnostics.messages(), ["expected a scope in a string literal, like `\"Mail.Read\"`"]);
        // Only `permissions` is no scope at all.
        assert_eq!(
            check_handler(
                quote!(permissions = "msal.toml"),
                quote!(
                    async fn h() {}
                )
            ),
            ["no scopes: name the scopes the handler needs, like `#[requires_scopes(\"Mail.Read\")]`"]
        );
    }
}
