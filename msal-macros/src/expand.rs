//! What `#[requires_scopes]` writes for a handler without errors: a marker type naming each token's scopes, its registration in the
//! app-wide list, and the handler with each `token: AccessToken` parameter rewritten to the runtime's
//! extractor. The body is not touched; all behaviour is in `msal_runtime`, reached through its hidden
//! `__private` module by absolute paths.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Signature, Visibility, parse_quote, parse_quote_spanned};

use crate::ast::{Handler, Site, TokenRequest};

/// The expansion of a handler without errors. `tracked`: the file of the declared permissions.
pub(crate) fn handler(handler: &Handler, tracked: Option<&Path>) -> TokenStream {
    let requests = handler.requests();
    let markers = markers(handler, requests.len());
    let name = handler.sig.ident.to_string();
    let mut items = TokenStream::new();
    for (request, marker) in requests.iter().zip(&markers) {
        let scopes: Vec<&str> = request.scopes.scopes.iter().map(|scope| scope.value.as_str()).collect();
        items.extend(marker_type(&handler.vis, marker, &scopes));
        items.extend(quote! {
            ::msal_runtime::__private::inventory::submit! {
                ::msal_runtime::__private::ScopedHandler::new(#name, ::core::module_path!(), &[#(#scopes),*])
            }
        });
    }
    // Editing the declared permissions rebuilds the crate (the file becomes a dependency of it).
    if let Some(path) = tracked {
        let path = path.to_string_lossy().into_owned();
        items.extend(quote_spanned! {Span::call_site()=> const _: &[u8] = ::core::include_bytes!(#path); });
    }
    let function = function(handler, &signature(handler, &requests, &markers));
    quote! { #items #function }
}

/// The marker type of each of `count` tokens of `handler`.
pub(crate) fn markers(handler: &Handler, count: usize) -> Vec<Ident> {
    let name = &handler.sig.ident;
    if count == 1 {
        return vec![format_ident!("__msal_scopes_{}", name)];
    }
    (0..count).map(|index| format_ident!("__msal_scopes_{}_{}", name, index)).collect()
}

/// A marker type naming one token's scopes, as visible as the handler.
pub(crate) fn marker_type(vis: &Visibility, marker: &Ident, scopes: &[&str]) -> TokenStream {
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;
        impl ::msal_runtime::__private::RequiredScopes for #marker {
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
        }
    }
}

/// The handler's signature with each token parameter rewritten to the runtime's extractor, and without the
/// `#[scopes(...)]` attributes, which the compiler does not know.
pub(crate) fn signature(handler: &Handler, requests: &[TokenRequest<'_>], markers: &[Ident]) -> Signature {
    let mut sig = without_scopes_attributes(&handler.sig);
    for (request, marker) in requests.iter().zip(markers) {
        match request.param {
            Some(index) => {
                let FnArg::Typed(param) = &mut sig.inputs[index] else { unreachable!("a token is a typed parameter") };
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
                sig.inputs.insert(0, param);
            }
        }
    }
    sig
}

/// `sig` without the `#[scopes(...)]` attributes of its parameters.
pub(crate) fn without_scopes_attributes(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    for input in &mut sig.inputs {
        if let FnArg::Typed(param) = input {
            param.attrs.retain(|attribute| !attribute.path().is_ident(Site::Parameter.attribute()));
        }
    }
    sig
}

/// The handler with `sig`: its attributes, visibility and body as written.
pub(crate) fn function(handler: &Handler, sig: &Signature) -> TokenStream {
    let Handler { attrs, vis, body, .. } = handler;
    quote! { #(#attrs)* #vis #sig #body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::parse;

    /// The expansion of the typical handler, as shown in the macro's documentation.
    const SNAPSHOT: &str = include_str!("snapshots/send.rs");

    fn expand(args: TokenStream, item: TokenStream, tracked: Option<&Path>) -> TokenStream {
        let mut diagnostics = Diagnostics::default();
        let args = parse::args(args, &mut diagnostics);
        let handler = parse::handler(item, args, &mut diagnostics).unwrap();
        assert!(diagnostics.is_empty());
        super::handler(&handler, tracked)
    }

    #[test]
    fn the_typical_expansion_is_short_and_as_documented() {
        let expanded = expand(
            quote!("Mail.Send"),
            quote! {
                /// Sends a message.
                async fn send(token: AccessToken, State(api): State<MailApi>, Form(mail): Form<Mail>) -> Result<Redirect, AppError> {
                    api.send(&token, mail).await?;
                    Ok(Redirect::to("/mail"))
                }
            },
            None,
        );
        let file: syn::File = syn::parse2(expanded).unwrap();
        assert_eq!(prettyplease::unparse(&file), SNAPSHOT);
        assert!(SNAPSHOT.lines().count() <= 25, "the expansion stays short enough to read");
    }

    #[test]
    fn the_declared_permissions_file_becomes_a_dependency_of_the_crate() {
        let item = quote! { async fn inbox(token: AccessToken) {} };
        let expanded = expand(quote!("Mail.Read"), item, Some(Path::new("/app/Cargo.toml"))).to_string();
        // `include_bytes!` makes cargo rebuild the crate when the file changes.
        assert!(expanded.contains("const _ : & [u8] = :: core :: include_bytes ! (\"/app/Cargo.toml\")"), "{expanded}");
    }

    #[test]
    fn a_handler_without_a_token_still_requires_one() {
        let item = quote! { pub async fn compose() -> &'static str { "form" } };
        let expanded = expand(quote!("Mail.Send"), item, None).to_string();
        assert!(expanded.contains("pub struct __msal_scopes_compose"), "{expanded}");
        assert!(
            expanded.contains(
                "async fn compose (_ : :: msal_runtime :: __private :: ScopedToken < __msal_scopes_compose >)"
            ),
            "{expanded}"
        );
    }

    #[test]
    fn each_token_gets_its_own_marker_and_loses_its_attribute() {
        let item = quote! {
            async fn dashboard(#[scopes("User.Read")] graph: AccessToken, #[allow(unused)] orders: AccessToken) {}
        };
        let expanded = expand(quote!("api://contoso/Orders.Read"), item, None).to_string();
        assert!(expanded.contains("ScopedToken (graph , _) : :: msal_runtime :: __private :: ScopedToken < __msal_scopes_dashboard_0 , AccessToken >"), "{expanded}");
        assert!(
            expanded.contains("# [allow (unused)] :: msal_runtime :: __private :: ScopedToken (orders , _)"),
            "{expanded}"
        );
        assert!(expanded.contains("& [\"api://contoso/Orders.Read\"]"), "{expanded}");
        assert!(!expanded.contains("# [scopes"), "{expanded}");
    }
}
