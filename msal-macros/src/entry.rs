//! `#[requires_scopes]`: parse, validate, expand.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ItemFn;

use crate::diagnostics::Diagnostics;
use crate::expand::{self, Token};
use crate::parse::{self, ScopeList, TokenParam};
use crate::{declared, validate};

/// The scopes of one token, and the parameter it replaces (`None`: a handler without one).
struct Request {
    list: ScopeList,
    param: Option<usize>,
}

pub(crate) fn requires_scopes(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut diagnostics = Diagnostics::default();
    let args = parse::args(args, &mut diagnostics);
    let mut handler: ItemFn = match syn::parse2(item.clone()) {
        Ok(handler) => handler,
        Err(_) => {
            diagnostics.error(Span::call_site(), "`#[requires_scopes]` goes on an axum handler: an `async fn`");
            let errors = diagnostics.into_compile_errors();
            return quote! { #errors #item };
        }
    };
    let params = parse::handler(&mut handler, &mut diagnostics);
    if handler.sig.receiver().is_some() {
        // A method: marker types cannot go into its `impl` block; emit it as it is, with the error.
        let errors = diagnostics.into_compile_errors();
        return quote! { #errors #handler };
    }
    let declared = declared::load(args.permissions.as_ref(), &mut diagnostics);
    let requests = requests(args.list, &params, &mut diagnostics);
    for Request { list, .. } in &requests {
        // A list of only malformed arguments was reported already; "no scopes" would only repeat it.
        if list.scopes.is_empty() && list.written {
            continue;
        }
        validate::token_scopes(&list.scopes, (list.span, list.attribute), declared.as_ref(), &mut diagnostics);
    }

    // With errors, the handler is still emitted (with no scopes and unregistered), so that the rest of the
    // crate keeps compiling and the user sees only the errors that matter.
    let valid = diagnostics.is_empty();
    let tokens: Vec<Token> = requests
        .into_iter()
        .map(|request| Token {
            scopes: if valid { request.list.scopes.into_iter().map(|scope| scope.value).collect() } else { Vec::new() },
            param: request.param,
        })
        .collect();
    let expanded = expand::expand(handler, &tokens, valid, declared.map(|declared| declared.path));
    let errors = diagnostics.into_compile_errors();
    quote! { #errors #expanded }
}

/// Which scopes each token gets: a parameter's own `#[scopes(...)]`, else the attribute's; a handler without
/// a token parameter still gets one (consent is enforced before its body runs).
fn requests(attribute: ScopeList, params: &[TokenParam], diagnostics: &mut Diagnostics) -> Vec<Request> {
    let unnamed: Vec<&TokenParam> = params.iter().filter(|param| param.scopes.is_none()).collect();
    for param in unnamed.iter().skip(1) {
        diagnostics.error(
            param.span,
            "this handler takes more than one `AccessToken`: say which scopes each gets with `#[scopes(\"...\")]` \
             on each of them",
        );
    }
    if !params.is_empty() && unnamed.is_empty() && !attribute.scopes.is_empty() {
        diagnostics.error(
            attribute.scopes[0].span,
            "these scopes go to no token: every `AccessToken` parameter names its own with `#[scopes(...)]`; \
             remove them here",
        );
    }
    if params.is_empty() {
        return vec![Request { list: attribute, param: None }];
    }
    params
        .iter()
        .map(|param| Request {
            list: param.scopes.clone().unwrap_or_else(|| attribute.clone()),
            param: Some(param.index),
        })
        .collect()
}
