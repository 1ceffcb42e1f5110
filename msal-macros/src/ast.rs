//! The handler and the attribute's arguments as written: what `parse` reads, `validate` judges and `expand`
//! writes. Nothing here is checked or changed; the rules are in `validate`.

use proc_macro2::{Group, Span};
use syn::{Attribute, LitStr, Signature, Visibility};

/// An annotated handler, kept as written. Its body is raw tokens, never parsed: a mistake in it is the
/// compiler's to report, with the compiler's own message (as tracing's `MaybeItemFn`).
pub(crate) struct Handler {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The signature as written, `#[scopes(...)]` attributes included.
    pub(crate) sig: Signature,
    /// The body, braces included.
    pub(crate) body: Group,
    /// The arguments of `#[requires_scopes(...)]`.
    pub(crate) args: ScopeList,
    /// The typed parameters (not `self`), in order.
    pub(crate) params: Vec<Param>,
}

/// A typed parameter of the handler.
pub(crate) struct Param {
    /// Its position among the handler's inputs (`self` included).
    pub(crate) index: usize,
    /// Its pattern, where errors about the parameter are reported.
    pub(crate) span: Span,
    /// Whether its type is `AccessToken` (by any path ending in it).
    pub(crate) is_token: bool,
    /// Each `#[scopes(...)]` on it, in order (one is correct).
    pub(crate) scopes: Vec<ScopeList>,
}

/// Which attribute a list of scopes is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// `#[requires_scopes(...)]` on the handler.
    Handler,
    /// `#[scopes(...)]` on a parameter.
    Parameter,
}

impl Site {
    /// The attribute's name.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Site::Handler => "requires_scopes",
            Site::Parameter => "scopes",
        }
    }
}

/// What is written in one attribute: its scopes and any `permissions = "…"`.
pub(crate) struct ScopeList {
    pub(crate) site: Site,
    /// The attribute, where "no scopes" is reported.
    pub(crate) span: Span,
    pub(crate) scopes: Vec<ScopeLit>,
    /// Each `permissions = "…"`, in order (one is correct, and only on the handler).
    pub(crate) permissions: Vec<Permissions>,
    /// Whether an argument could not be read; it was reported, and "no scopes" would only repeat it.
    pub(crate) unreadable: bool,
}

impl ScopeList {
    pub(crate) fn new(site: Site, span: Span) -> Self {
        ScopeList { site, span, scopes: Vec::new(), permissions: Vec::new(), unreadable: false }
    }
}

/// A scope as written: its text and where it is.
#[derive(Debug, Clone)]
pub(crate) struct ScopeLit {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// `permissions = "file.toml"`: where the declared permissions are, instead of Cargo.toml.
pub(crate) struct Permissions {
    /// The `permissions` keyword, where errors about the argument are reported.
    pub(crate) span: Span,
    pub(crate) path: LitStr,
}

/// One token the handler asks for: the scopes it gets and the parameter it replaces.
pub(crate) struct TokenRequest<'a> {
    pub(crate) scopes: &'a ScopeList,
    /// `None` for a handler without a token parameter: it still requires the scopes, and consent happens
    /// before its body runs.
    pub(crate) param: Option<usize>,
}

impl Handler {
    /// The token parameters.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|param| param.is_token)
    }

    /// Which scopes each token gets: a parameter's own `#[scopes(...)]` (the first, if several), else the
    /// attribute's.
    pub(crate) fn requests(&self) -> Vec<TokenRequest<'_>> {
        let requests: Vec<TokenRequest<'_>> = self
            .tokens()
            .map(|param| TokenRequest { scopes: param.scopes.first().unwrap_or(&self.args), param: Some(param.index) })
            .collect();
        if requests.is_empty() { vec![TokenRequest { scopes: &self.args, param: None }] } else { requests }
    }

    /// The `permissions = "…"` the declared permissions are read from (the first; a second is an error).
    pub(crate) fn permissions(&self) -> Option<&LitStr> {
        self.args.permissions.first().map(|permissions| &permissions.path)
    }
}
