//! The app-wide list of scopes, collected at link time from every `#[requires_scopes]` handler: to list them,
//! to ask for them up front, to build an admin-consent URL, and to warn at start-up about any the app's
//! registration does not declare.

use crate::scope::set::{Scope, ScopeSet};

/// A handler annotated with `#[requires_scopes]`, registered by the macro.
#[derive(Debug)]
pub struct ScopedHandler {
    name: &'static str,
    module: &'static str,
    scopes: &'static [&'static str],
}

impl ScopedHandler {
    /// Used by the macro's expansion.
    #[doc(hidden)]
    pub const fn new(name: &'static str, module: &'static str, scopes: &'static [&'static str]) -> Self {
        Self { name, module, scopes }
    }

    /// The handler's function name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module it is defined in.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The scopes of one of its tokens (a handler with several tokens registers once per token).
    pub fn scopes(&self) -> &'static [&'static str] {
        self.scopes
    }
}

inventory::collect!(ScopedHandler);

/// Every `#[requires_scopes]` handler linked into this program, sorted by module and name.
pub fn scoped_handlers() -> Vec<&'static ScopedHandler> {
    let mut handlers: Vec<_> = inventory::iter::<ScopedHandler>.into_iter().collect();
    handlers.sort_by_key(|handler| (handler.module, handler.name));
    handlers
}

/// The union of the scopes of every `#[requires_scopes]` handler. Invalid scopes cannot occur: the macro
/// refuses them at compile time.
pub fn handler_scopes() -> ScopeSet {
    inventory::iter::<ScopedHandler>
        .into_iter()
        .flat_map(|handler| handler.scopes.iter())
        .filter_map(|scope| Scope::new(scope).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    inventory::submit! { ScopedHandler::new("send", "registry::tests", &["Mail.Send"]) }
    inventory::submit! { ScopedHandler::new("read", "registry::tests", &["Mail.Read", "mail.send"]) }

    #[test]
    fn collects_every_registered_handler() {
        let names: Vec<_> = scoped_handlers().iter().map(|handler| handler.name()).collect();
        assert_eq!(names, ["read", "send"]);
        assert_eq!(handler_scopes(), ScopeSet::parse("Mail.Read Mail.Send").unwrap());
    }
}
