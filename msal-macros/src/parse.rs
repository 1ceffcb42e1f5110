//! Reading the attribute's arguments and the handler into the model of `ast`, changing nothing. Only what
//! cannot be read at all is reported here (an item that is not a function, an argument that is neither a
//! scope nor `permissions = "…"`); whatever is read is judged by `validate`.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, LitStr, Meta, PatType, Signature, Token, Type, Visibility};

use crate::ast::{Handler, Param, Permissions, ScopeList, ScopeLit, Site};
use crate::diagnostics::Diagnostics;

mod kw {
    syn::custom_keyword!(permissions);
}

/// Reads the arguments of `#[requires_scopes(...)]`.
pub(crate) fn args(tokens: TokenStream, diagnostics: &mut Diagnostics) -> ScopeList {
    // Without arguments the attribute is one token wide, so "no scopes" is best shown on all of it.
    list(tokens, Site::Handler, Span::call_site(), diagnostics)
}

/// Reads the handler. `None` when the item is not a function (reported).
pub(crate) fn handler(item: TokenStream, args: ScopeList, diagnostics: &mut Diagnostics) -> Option<Handler> {
    let Ok((attrs, vis, sig, body)) = function.parse2(item) else {
        diagnostics.error(Span::call_site(), "`#[requires_scopes]` goes on an axum handler: an `async fn`");
        return None;
    };
    let params = sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| match input {
            FnArg::Typed(param) => Some(self::param(index, param, diagnostics)),
            FnArg::Receiver(_) => None,
        })
        .collect();
    Some(Handler { attrs, vis, sig, body, args, params })
}

/// A function whose body is kept as raw tokens (as tracing's `MaybeItemFn`): a syntax error or a misspelled
/// name in the body is left to the compiler, which reports it better than "not a function" would.
fn function(input: ParseStream) -> syn::Result<(Vec<Attribute>, Visibility, Signature, Group)> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis = input.parse()?;
    let sig = input.parse()?;
    let body: Group = input.parse()?;
    if body.delimiter() != Delimiter::Brace {
        return Err(syn::Error::new(body.span(), "expected the function's body"));
    }
    Ok((attrs, vis, sig, body))
}

fn param(index: usize, param: &PatType, diagnostics: &mut Diagnostics) -> Param {
    let scopes = param
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident(Site::Parameter.attribute()))
        .map(|attribute| param_scopes(attribute, diagnostics))
        .collect();
    Param { index, span: param.pat.span(), is_token: is_access_token(&param.ty), scopes }
}

/// Reads `#[scopes("A", "B")]` on a parameter.
fn param_scopes(attribute: &Attribute, diagnostics: &mut Diagnostics) -> ScopeList {
    // The attribute's name: on stable a span covers one token, and `#` says little.
    let span = attribute.path().span();
    match &attribute.meta {
        Meta::List(list) => self::list(list.tokens.clone(), Site::Parameter, span, diagnostics),
        Meta::Path(_) | Meta::NameValue(_) => {
            diagnostics.error(span, "write the token's scopes as `#[scopes(\"Mail.Read\")]`");
            ScopeList { unreadable: true, ..ScopeList::new(Site::Parameter, span) }
        }
    }
}

/// Whether `ty` is `AccessToken` (by any path ending in it, such as `msal_runtime::AccessToken`).
fn is_access_token(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "AccessToken" && segment.arguments.is_empty()),
        Type::Group(group) => is_access_token(&group.elem),
        Type::Paren(paren) => is_access_token(&paren.elem),
        _ => false,
    }
}

/// One argument as written.
enum Arg {
    Scope(LitStr),
    Permissions(Permissions),
}

/// Reads the arguments of one attribute. Each argument is read on its own, so that every unreadable one is
/// reported, not only the first.
fn list(tokens: TokenStream, site: Site, span: Span, diagnostics: &mut Diagnostics) -> ScopeList {
    let mut list = ScopeList::new(site, span);
    for argument in split_at_commas(tokens) {
        let read = match argument {
            Ok(tokens) => (|input: ParseStream| self::argument(input, site)).parse2(tokens),
            Err(comma) => Err(syn::Error::new(comma, "two commas in a row: remove one")),
        };
        match read {
            Ok(Arg::Scope(lit)) => list.scopes.push(ScopeLit { value: lit.value(), span: lit.span() }),
            Ok(Arg::Permissions(permissions)) => list.permissions.push(permissions),
            Err(error) => {
                list.unreadable = true;
                diagnostics.push(error);
            }
        }
    }
    list
}

/// The tokens of each argument; `Err` with the comma's span for an empty one (a trailing comma is fine).
fn split_at_commas(tokens: TokenStream) -> Vec<Result<TokenStream, Span>> {
    let mut arguments = Vec::new();
    let mut current = TokenStream::new();
    for tree in tokens {
        match tree {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                let argument = std::mem::take(&mut current);
                arguments.push(if argument.is_empty() { Err(punct.span()) } else { Ok(argument) });
            }
            other => current.extend([other]),
        }
    }
    if !current.is_empty() {
        arguments.push(Ok(current));
    }
    arguments
}

/// One argument: a scope, `"Mail.Read"`, or `permissions = "file.toml"` (read on a parameter too, so that
/// `validate` can say where it goes).
fn argument(input: ParseStream, site: Site) -> syn::Result<Arg> {
    let lookahead = input.lookahead1();
    let arg = if lookahead.peek(LitStr) {
        Arg::Scope(input.parse()?)
    } else if lookahead.peek(kw::permissions) {
        Arg::Permissions(permissions(input)?)
    } else {
        return Err(unexpected(input, site));
    };
    if !input.is_empty() {
        return Err(input.error("expected `,` between two arguments"));
    }
    Ok(arg)
}

fn permissions(input: ParseStream) -> syn::Result<Permissions> {
    let keyword: kw::permissions = input.parse()?;
    let takes_a_path =
        |span| syn::Error::new(span, "`permissions` takes a path in a string: `permissions = \"msal.toml\"`");
    if input.parse::<Token![=]>().is_err() {
        return Err(takes_a_path(keyword.span));
    }
    let path = input.parse::<LitStr>().map_err(|_| takes_a_path(input.span()))?;
    Ok(Permissions { span: keyword.span, path })
}

/// The error for an argument that is neither a scope nor `permissions = …`, saying what is accepted.
fn unexpected(input: ParseStream, site: Site) -> syn::Error {
    let span = input.span();
    // Every token of the argument: its parser must consume them all, and the message quotes them.
    let tokens: TokenStream = input.parse().unwrap_or_default();
    let mut trees = tokens.clone().into_iter();
    let (Some(TokenTree::Ident(name)), rest) = (trees.next(), trees.collect::<TokenStream>()) else {
        return not_a_scope(&tokens, span);
    };
    match (|input: ParseStream| unknown_argument(input, &name, site)).parse2(rest) {
        Ok(message) => syn::Error::new(span, message),
        // Not `name` nor `name = …`: a scope written without quotes, like `Mail.Read`.
        Err(_) => not_a_scope(&tokens, span),
    }
}

/// `name` or `name = value`: an argument this attribute does not take.
fn unknown_argument(input: ParseStream, name: &Ident, site: Site) -> syn::Result<String> {
    let written_scope = if input.is_empty() {
        Some(name.to_string())
    } else {
        input.parse::<Token![=]>()?;
        let value: TokenStream = input.parse()?;
        syn::parse2::<LitStr>(value).ok().map(|lit| lit.value())
    };
    let (accepted, close_to_permissions) = match site {
        Site::Handler => (
            "`#[requires_scopes]` takes scopes in string literals and `permissions = \"file.toml\"`",
            strsim::damerau_levenshtein(&name.to_string().to_ascii_lowercase(), "permissions") <= 2,
        ),
        Site::Parameter => ("`#[scopes(...)]` takes scopes in string literals", false),
    };
    let fix = match written_scope {
        _ if close_to_permissions => "; did you mean `permissions`?".to_owned(),
        Some(scope) => format!("; write `\"{scope}\"`"),
        None => String::new(),
    };
    Ok(format!("unknown argument `{name}`: {accepted}{fix}"))
}

fn not_a_scope(tokens: &TokenStream, span: Span) -> syn::Error {
    let written = tokens.to_string().replace(' ', "");
    // Quoting the argument is the fix only when it reads as a scope (not `=`, nor an expression).
    let example = if !written.is_empty() && written.chars().all(crate::validate::is_scope_char) {
        written.as_str()
    } else {
        "Mail.Read"
    };
    syn::Error::new(span, format!("expected a scope in a string literal, like `\"{example}\"`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn handler_of(item: TokenStream) -> (Option<Handler>, Vec<String>) {
        let mut diagnostics = Diagnostics::default();
        let args = args(quote!("Mail.Read"), &mut diagnostics);
        let handler = handler(item, args, &mut diagnostics);
        (handler, diagnostics.messages())
    }

    fn messages_of_args(tokens: TokenStream) -> Vec<String> {
        let mut diagnostics = Diagnostics::default();
        args(tokens, &mut diagnostics);
        diagnostics.messages()
    }

    #[test]
    fn reads_scopes_and_the_permissions_path() {
        let mut diagnostics = Diagnostics::default();
        let args = args(quote!("Mail.Read", "Mail.Send", permissions = "msal.toml",), &mut diagnostics);
        assert!(diagnostics.is_empty());
        let values: Vec<_> = args.scopes.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(values, ["Mail.Read", "Mail.Send"]);
        assert_eq!(args.permissions[0].path.value(), "msal.toml");
        assert!(!args.unreadable);
    }

    #[test]
    fn refuses_what_is_not_a_string() {
        assert_eq!(
            messages_of_args(quote!(Mail.Read, 42, "ok", permissions = 1, = "x", permissions)),
            [
                "expected a scope in a string literal, like `\"Mail.Read\"`",
                "expected a scope in a string literal, like `\"42\"`",
                "`permissions` takes a path in a string: `permissions = \"msal.toml\"`",
                "expected a scope in a string literal, like `\"Mail.Read\"`",
                "`permissions` takes a path in a string: `permissions = \"msal.toml\"`",
            ]
        );
        assert_eq!(messages_of_args(quote!("Mail.Read" "Mail.Send")), ["expected `,` between two arguments"]);
        assert_eq!(messages_of_args(quote!("Mail.Read",, "Mail.Send")), ["two commas in a row: remove one"]);
    }

    #[test]
    fn an_unknown_argument_is_one_error_saying_what_is_accepted() {
        let accepted = "`#[requires_scopes]` takes scopes in string literals and `permissions = \"file.toml\"`";
        assert_eq!(
            messages_of_args(quote!(permission = "x.toml")),
            [format!("unknown argument `permission`: {accepted}; did you mean `permissions`?")]
        );
        assert_eq!(
            messages_of_args(quote!(scope = "Mail.Read")),
            [format!("unknown argument `scope`: {accepted}; write `\"Mail.Read\"`")]
        );
        assert_eq!(
            messages_of_args(quote!(Inbox)),
            [format!("unknown argument `Inbox`: {accepted}; write `\"Inbox\"`")]
        );
        assert_eq!(messages_of_args(quote!(cache = 3)), [format!("unknown argument `cache`: {accepted}")]);
    }

    #[test]
    fn an_unreadable_argument_is_remembered_so_that_no_scopes_is_not_said_again() {
        let mut diagnostics = Diagnostics::default();
        let args = args(quote!(Mail.Read), &mut diagnostics);
        assert_eq!(diagnostics.messages().len(), 1);
        assert!(args.scopes.is_empty() && args.unreadable);
    }

    #[test]
    fn keeps_every_permissions_argument_for_validate_to_judge() {
        let mut diagnostics = Diagnostics::default();
        let args = args(quote!("Mail.Read", permissions = "a.toml", permissions = "b.toml"), &mut diagnostics);
        assert!(diagnostics.is_empty());
        let paths: Vec<_> = args.permissions.iter().map(|permissions| permissions.path.value()).collect();
        assert_eq!(paths, ["a.toml", "b.toml"]);
    }

    #[test]
    fn finds_token_parameters_by_type_and_changes_nothing() {
        let (handler, messages) = handler_of(quote! {
            async fn h(
                State(s): State<S>,
                token: AccessToken,
                #[scopes("api://contoso/Orders.Read")] orders: msal_runtime::AccessToken,
                #[scopes("User.Read")] #[scopes(permissions = "msal.toml")] graph: (AccessToken),
                Form(f): Form<F>,
            ) {}
        });
        assert!(messages.is_empty(), "{messages:?}");
        let handler = handler.unwrap();
        let tokens: Vec<&Param> = handler.tokens().collect();
        assert_eq!(tokens.iter().map(|t| t.index).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(tokens[0].scopes.is_empty());
        assert_eq!(tokens[1].scopes[0].scopes[0].value, "api://contoso/Orders.Read");
        assert_eq!(tokens[2].scopes.len(), 2, "both attributes are kept, for `validate` to judge");
        assert_eq!(tokens[2].scopes[1].permissions[0].path.value(), "msal.toml");
        // The signature is as written: taking the attributes off is `expand`'s job.
        let sig = &handler.sig;
        assert_eq!(quote!(#sig).to_string().matches("scopes").count(), 3);
    }

    #[test]
    fn does_not_read_the_body() {
        let (handler, messages) = handler_of(quote! {
            fn inbox(token: AccessToken) -> String { let = ; tokn.expires_on() }
        });
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(handler.unwrap().body.stream().to_string(), "let = ; tokn . expires_on ()");
    }

    #[test]
    fn what_is_not_a_function_goes_on_a_handler() {
        for item in [
            quote!(
                struct Inbox;
            ),
            quote!(
                fn inbox();
            ),
            quote!(fn inbox() []),
        ] {
            let (handler, messages) = handler_of(item);
            assert!(handler.is_none());
            assert_eq!(messages, ["`#[requires_scopes]` goes on an axum handler: an `async fn`"]);
        }
    }
}
