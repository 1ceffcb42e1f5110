//! Every error of a handler at once, each at the offending token (the approach of serde_derive's `Ctxt`):
//! a user with three typos sees three errors.

use proc_macro2::{Span, TokenStream};

/// Errors collected while parsing and validating; must be turned into output before it is dropped.
#[derive(Default)]
pub(crate) struct Diagnostics {
    errors: Vec<syn::Error>,
    checked: bool,
}

impl Diagnostics {
    pub(crate) fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors as `compile_error!` invocations, emitted next to the handler.
    pub(crate) fn into_compile_errors(mut self) -> TokenStream {
        self.checked = true;
        self.errors.iter().map(syn::Error::to_compile_error).collect()
    }

    #[cfg(test)]
    pub(crate) fn messages(mut self) -> Vec<String> {
        self.checked = true;
        self.errors.iter().map(ToString::to_string).collect()
    }
}

impl Drop for Diagnostics {
    fn drop(&mut self) {
        // A dropped error would be a silently accepted mistake in a user's handler.
        if !self.checked && !self.errors.is_empty() && !std::thread::panicking() {
            panic!("msal-macros bug: {} diagnostics were dropped unreported", self.errors.len());
        }
    }
}
