//! Reading the attribute and the handler: the scopes as written, and which parameters are tokens.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprAssign, ExprLit, FnArg, ItemFn, Lit, LitStr, Token, Type};

use crate::diagnostics::Diagnostics;

/// Name of the parameter attribute that gives one token its own scopes.
pub(crate) const PARAM_ATTRIBUTE: &str = "scopes";

/// A scope as written: its text and where it is.
#[derive(Debug, Clone)]
pub(crate) struct ScopeLit {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// A list of scopes: of the attribute, or of one parameter's `#[scopes(...)]`.
#[derive(Debug, Clone)]
pub(crate) struct ScopeList {
    pub(crate) scopes: Vec<ScopeLit>,
    /// Where "no scopes" is reported.
    pub(crate) span: Span,
    /// Whether anything was written in the list, so that a list of only malformed arguments (already
    /// reported) is not reported again as "no scopes".
    pub(crate) written: bool,
    /// How the list is written, for the "no scopes" hint: `requires_scopes` or `scopes`.
    pub(crate) attribute: &'static str,
}

/// The arguments of `#[requires_scopes(...)]`.
#[derive(Debug)]
pub(crate) struct Args {
    pub(crate) list: ScopeList,
    /// `permissions = "file.toml"`: where the declared permissions are, instead of Cargo.toml.
    pub(crate) permissions: Option<LitStr>,
}

/// A parameter of type `AccessToken`.
#[derive(Debug)]
pub(crate) struct TokenParam {
    /// Its position among the handler's parameters.
    pub(crate) index: usize,
    /// Its own scopes, from `#[scopes(...)]`.
    pub(crate) scopes: Option<ScopeList>,
    pub(crate) span: Span,
}

/// Parses the attribute's arguments: string literals, and optionally `permissions = "..."`.
pub(crate) fn args(tokens: TokenStream, diagnostics: &mut Diagnostics) -> Args {
    let written = !tokens.is_empty();
    let list = ScopeList { scopes: Vec::new(), span: Span::call_site(), written, attribute: "requires_scopes" };
    let mut args = Args { list, permissions: None };
    let parsed = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(parsed) => parsed,
        Err(error) => {
            diagnostics.push(error);
            return args;
        }
    };
    for expr in parsed {
        match expr {
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => args.list.scopes.push(scope_lit(&lit)),
            Expr::Assign(ExprAssign { left, right, .. }) if is_ident(&left, "permissions") => match *right {
                Expr::Lit(ExprLit { lit: Lit::Str(path), .. }) => args.permissions = Some(path),
                other => diagnostics
                    .error(other.span(), "`permissions` takes a path in a string: `permissions = \"msal.toml\"`"),
            },
            other => not_a_scope(&other, diagnostics),
        }
    }
    args
}

/// Parses `#[scopes("A", "B")]` on a parameter.
fn param_scopes(attribute: &syn::Attribute, diagnostics: &mut Diagnostics) -> ScopeList {
    // The attribute's name: on stable a span covers one token, and `#` says little.
    let span = attribute.path().span();
    let list = match attribute.meta.require_list() {
        Ok(list) => list,
        Err(_) => {
            diagnostics.error(span, "write the token's scopes as `#[scopes(\"Mail.Read\")]`");
            return ScopeList { scopes: Vec::new(), span, written: true, attribute: PARAM_ATTRIBUTE };
        }
    };
    let written = !list.tokens.is_empty();
    let scopes = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
        Ok(parsed) => parsed
            .into_iter()
            .filter_map(|expr| match expr {
                Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Some(scope_lit(&lit)),
                other => {
                    not_a_scope(&other, diagnostics);
                    None
                }
            })
            .collect(),
        Err(error) => {
            diagnostics.push(error);
            Vec::new()
        }
    };
    ScopeList { scopes, span, written, attribute: PARAM_ATTRIBUTE }
}

fn scope_lit(lit: &LitStr) -> ScopeLit {
    ScopeLit { value: lit.value(), span: lit.span() }
}

fn not_a_scope(expr: &Expr, diagnostics: &mut Diagnostics) {
    let written = quote::ToTokens::to_token_stream(expr).to_string();
    diagnostics
        .error(expr.span(), format!("expected a scope in a string literal, like `\"{}\"`", written.replace(' ', "")));
}

fn is_ident(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident(name))
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

/// Parses the handler: checks that it is an `async fn` without `self`, finds its token parameters and takes
/// their `#[scopes(...)]` attributes off (the compiler does not know them).
pub(crate) fn handler(item: &mut ItemFn, diagnostics: &mut Diagnostics) -> Vec<TokenParam> {
    if item.sig.asyncness.is_none() {
        diagnostics.error(
            item.sig.fn_token.span,
            "`#[requires_scopes]` goes on an axum handler, which must be an `async fn`: write `async fn`",
        );
    }
    let mut tokens = Vec::new();
    for (index, input) in item.sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) => diagnostics.error(
                receiver.self_token.span,
                "`#[requires_scopes]` handlers cannot take `self`: make it a free function and pass what it \
                 needs with `State`",
            ),
            FnArg::Typed(param) => {
                let mut scopes = None;
                let mut kept = Vec::new();
                for attribute in param.attrs.drain(..) {
                    if attribute.path().is_ident(PARAM_ATTRIBUTE) {
                        scopes = Some(param_scopes(&attribute, diagnostics));
                    } else {
                        kept.push(attribute);
                    }
                }
                param.attrs = kept;
                if is_access_token(&param.ty) {
                    tokens.push(TokenParam { index, scopes, span: param.span() });
                } else if let Some(list) = scopes {
                    diagnostics.error(list.span, "`#[scopes(...)]` goes on a parameter of type `AccessToken`");
                }
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn reads_scopes_and_the_permissions_path() {
        let mut diagnostics = Diagnostics::default();
        let args = args(quote!("Mail.Read", "Mail.Send", permissions = "msal.toml"), &mut diagnostics);
        assert!(diagnostics.is_empty());
        let values: Vec<_> = args.list.scopes.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(values, ["Mail.Read", "Mail.Send"]);
        assert_eq!(args.permissions.unwrap().value(), "msal.toml");
    }

    #[test]
    fn refuses_what_is_not_a_string() {
        let mut diagnostics = Diagnostics::default();
        args(quote!(Mail.Read, 42, "ok", permissions = 1), &mut diagnostics);
        assert_eq!(
            diagnostics.messages(),
            [
                "expected a scope in a string literal, like `\"Mail.Read\"`",
                "expected a scope in a string literal, like `\"42\"`",
                "`permissions` takes a path in a string: `permissions = \"msal.toml\"`",
            ]
        );
    }

    #[test]
    fn finds_token_parameters_by_type() {
        let mut item: ItemFn = syn::parse_quote! {
            async fn h(
                State(s): State<S>,
                token: AccessToken,
                #[scopes("api://contoso/Orders.Read")] orders: msal_runtime::AccessToken,
                Form(f): Form<F>,
            ) {}
        };
        let mut diagnostics = Diagnostics::default();
        let tokens = handler(&mut item, &mut diagnostics);
        assert!(diagnostics.is_empty());
        assert_eq!(tokens.iter().map(|t| t.index).collect::<Vec<_>>(), [1, 2]);
        assert!(tokens[0].scopes.is_none());
        assert_eq!(tokens[1].scopes.as_ref().unwrap().scopes[0].value, "api://contoso/Orders.Read");
        // The attribute is taken off the parameter.
        let rendered = quote!(#item).to_string();
        assert!(!rendered.contains("scopes"), "{rendered}");
    }
}
