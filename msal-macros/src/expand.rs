//! What `#[requires_scopes]` writes: a marker type naming each token's scopes, its registration in the
//! app-wide list, and the handler with each `token: AccessToken` parameter rewritten to the runtime's
//! extractor. The body is not touched; all behaviour is in `msal_runtime`, reached through its hidden
//! `__private` module by absolute paths.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, parse_quote, parse_quote_spanned};

/// One token of the handler: the marker type to generate and where the token goes.
#[derive(Debug)]
pub(crate) struct Token {
    pub(crate) scopes: Vec<String>,
    /// The parameter it replaces; `None` for a handler without a token parameter (consent still enforced).
    pub(crate) param: Option<usize>,
}

/// The marker type of the `index`-th of `count` tokens of `handler`.
fn marker(handler: &Ident, index: usize, count: usize) -> Ident {
    if count == 1 {
        format_ident!("__msal_scopes_{}", handler)
    } else {
        format_ident!("__msal_scopes_{}_{}", handler, index)
    }
}

/// The expansion. `register` is false when the handler has errors: it is then emitted only so that the rest
/// of the crate keeps compiling, and must not reach the app-wide scope list.
pub(crate) fn expand(mut handler: ItemFn, tokens: &[Token], register: bool, tracked: Option<PathBuf>) -> TokenStream {
    let vis = handler.vis.clone();
    let name = handler.sig.ident.to_string();
    let mut items = TokenStream::new();
    for (index, token) in tokens.iter().enumerate() {
        let marker = marker(&handler.sig.ident, index, tokens.len());
        let scopes = &token.scopes;
        items.extend(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #marker;
            impl ::msal_runtime::__private::RequiredScopes for #marker {
                const SCOPES: &'static [&'static str] = &[#(#scopes),*];
            }
        });
        if register {
            items.extend(quote! {
                ::msal_runtime::__private::inventory::submit! {
                    ::msal_runtime::__private::ScopedHandler::new(#name, ::core::module_path!(), &[#(#scopes),*])
                }
            });
        }
        match token.param {
            Some(index) => {
                let FnArg::Typed(param) = &mut handler.sig.inputs[index] else {
                    unreachable!("a token is a typed parameter")
                };
                // Spanned on the user's `AccessToken`, so that type errors point at their code.
                // The user's spelling of `AccessToken` stays, so that their import of it stays used.
                let span = param.ty.span();
                let (pat, ty) = (&param.pat, &param.ty);
                let new_pat = parse_quote_spanned!(span=> ::msal_runtime::__private::ScopedToken(#pat, _));
                let new_ty = parse_quote_spanned!(span=> ::msal_runtime::__private::ScopedToken<#marker, #ty>);
                *param.pat = new_pat;
                *param.ty = new_ty;
            }
            None => {
                let param: FnArg = parse_quote!(_: ::msal_runtime::__private::ScopedToken<#marker>);
                handler.sig.inputs.insert(0, param);
            }
        }
    }
    // Editing the declared permissions rebuilds the crate (the file becomes a dependency of it).
    if let Some(path) = tracked {
        let path = path.to_string_lossy().into_owned();
        items.extend(quote_spanned! {Span::call_site()=> const _: &[u8] = ::core::include_bytes!(#path); });
    }
    quote! { #items #handler }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion of the typical handler, as shown in the macro's documentation.
    const SNAPSHOT: &str = include_str!("snapshots/send.rs");

    #[test]
    fn the_typical_expansion_is_short_and_as_documented() {
        let handler: ItemFn = parse_quote! {
            /// Sends a message.
            async fn send(token: AccessToken, State(api): State<MailApi>, Form(mail): Form<Mail>) -> Result<Redirect, AppError> {
                api.send(&token, mail).await?;
                Ok(Redirect::to("/mail"))
            }
        };
        let tokens = [Token { scopes: vec!["Mail.Send".to_owned()], param: Some(0) }];
        let expanded = expand(handler, &tokens, true, None);
        let file: syn::File = syn::parse2(expanded).unwrap();
        assert_eq!(prettyplease::unparse(&file), SNAPSHOT);
        assert!(SNAPSHOT.lines().count() <= 25, "the expansion stays short enough to read");
    }

    #[test]
    fn the_declared_permissions_file_becomes_a_dependency_of_the_crate() {
        let handler: ItemFn = parse_quote! { async fn inbox(token: AccessToken) {} };
        let tokens = [Token { scopes: vec!["Mail.Read".to_owned()], param: Some(0) }];
        let expanded = expand(handler, &tokens, true, Some(PathBuf::from("/app/Cargo.toml"))).to_string();
        // `include_bytes!` makes cargo rebuild the crate when the file changes.
        assert!(expanded.contains("const _ : & [u8] = :: core :: include_bytes ! (\"/app/Cargo.toml\")"), "{expanded}");
    }

    #[test]
    fn a_handler_without_a_token_still_requires_one() {
        let handler: ItemFn = parse_quote! { pub async fn compose() -> &'static str { "form" } };
        let tokens = [Token { scopes: vec!["Mail.Send".to_owned()], param: None }];
        let expanded = expand(handler, &tokens, false, None).to_string();
        assert!(expanded.contains("pub struct __msal_scopes_compose"), "{expanded}");
        assert!(
            expanded.contains(
                "async fn compose (_ : :: msal_runtime :: __private :: ScopedToken < __msal_scopes_compose >)"
            ),
            "{expanded}"
        );
        assert!(!expanded.contains("inventory"), "handlers with errors are not registered: {expanded}");
    }
}
