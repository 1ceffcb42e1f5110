//! `#[requires_scopes]`: parse, validate, then expand, or with errors the fallback.

use proc_macro2::TokenStream;

use crate::diagnostics::Diagnostics;
use crate::{declared, expand, fallback, parse, validate};

pub(crate) fn requires_scopes(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut diagnostics = Diagnostics::default();
    let args = parse::args(args, &mut diagnostics);
    let Some(handler) = parse::handler(item.clone(), args, &mut diagnostics) else {
        return fallback::not_a_function(item, diagnostics.into_compile_errors());
    };
    let declared = declared::load(handler.permissions(), &mut diagnostics);
    validate::handler(&handler, declared.as_ref(), &mut diagnostics);
    if diagnostics.is_empty() {
        expand::handler(&handler, declared.as_ref().map(|declared| declared.path.as_path()))
    } else {
        fallback::handler(&handler, diagnostics.into_compile_errors())
    }
}
