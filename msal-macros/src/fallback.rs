//! What `#[requires_scopes]` writes for a handler with errors: the errors, and the handler still a valid
//! axum handler (as thiserror's `fallback.rs` still implements the trait), so that the rest of the crate
//! compiles and the user sees only the macro's errors, not a "`Handler` is not implemented" on the route.
//!
//! It gets no scopes and is not registered in the app-wide list. Nothing needs tracking for rebuilds: a
//! crate with errors is compiled again anyway.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Token;

use crate::ast::Handler;
use crate::expand;

pub(crate) fn handler(handler: &Handler, errors: TokenStream) -> TokenStream {
    let mut items = TokenStream::new();
    let mut sig = if handler.sig.receiver().is_some() {
        // A method: marker types cannot go into its `impl` block, and no route takes it anyway.
        expand::without_scopes_attributes(&handler.sig)
    } else {
        let requests = handler.requests();
        let markers = expand::markers(handler, requests.len());
        for marker in &markers {
            items.extend(expand::marker_type(&handler.vis, marker, &[]));
        }
        expand::signature(handler, &requests, &markers)
    };
    // A route needs a function returning a future: a non-`async` handler would add axum's error to ours.
    let span = sig.fn_token.span;
    sig.asyncness.get_or_insert(Token![async](span));
    let function = expand::function(handler, &sig);
    quote! { #errors #items #function }
}

/// Not a function: the item as written, which the compiler still checks.
pub(crate) fn not_a_function(item: TokenStream, errors: TokenStream) -> TokenStream {
    quote! { #errors #item }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::parse;

    fn fallback(item: TokenStream) -> String {
        let mut diagnostics = Diagnostics::default();
        let args = parse::args(quote!("Mail.Read"), &mut diagnostics);
        let handler = parse::handler(item, args, &mut diagnostics).unwrap();
        assert!(diagnostics.is_empty());
        super::handler(&handler, quote!(::core::compile_error! { "error" })).to_string()
    }

    #[test]
    fn a_handler_with_errors_is_still_an_async_handler_without_scopes() {
        let expanded = fallback(quote! { fn inbox(#[scopes("Mail.Read")] token: AccessToken) -> String { body() } });
        assert!(expanded.starts_with(":: core :: compile_error ! { \"error\" }"), "{expanded}");
        assert!(expanded.contains("const SCOPES : & 'static [& 'static str] = & [] ;"), "{expanded}");
        assert!(
            expanded.contains(
                "async fn inbox (:: msal_runtime :: __private :: ScopedToken (token , _) : :: msal_runtime :: \
                 __private :: ScopedToken < __msal_scopes_inbox , AccessToken >) -> String { body () }"
            ),
            "{expanded}"
        );
        assert!(!expanded.contains("inventory"), "handlers with errors are not registered: {expanded}");
        assert!(!expanded.contains("# [scopes"), "{expanded}");
    }

    #[test]
    fn a_method_is_left_as_written_but_async() {
        let expanded = fallback(quote! { fn inbox(&self, #[scopes("Mail.Read")] token: AccessToken) {} });
        assert!(expanded.ends_with("async fn inbox (& self , token : AccessToken) { }"), "{expanded}");
        assert!(!expanded.contains("struct"), "{expanded}");
    }
}
