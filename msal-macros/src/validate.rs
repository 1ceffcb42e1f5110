//! The compile-time checks of one token's scopes, each error spanned on the offending string with its fix.

use proc_macro2::Span;

use crate::declared::Declared;
use crate::diagnostics::Diagnostics;
use crate::parse::ScopeLit;
use crate::resource::{self, Resource};

/// Added by the runtime to every sign-in (OpenID Connect Core §3.1.2.1, §11).
const RESERVED: [&str; 3] = ["openid", "profile", "offline_access"];

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Checks the scopes of one token, written in `#[attribute(...)]` at `anchor`.
pub(crate) fn token_scopes(
    scopes: &[ScopeLit],
    (anchor, attribute): (Span, &str),
    declared: Option<&Declared>,
    diagnostics: &mut Diagnostics,
) {
    if scopes.is_empty() {
        let message = format!("no scopes: name the scopes the handler needs, like `#[{attribute}(\"Mail.Read\")]`");
        diagnostics.error(anchor, message);
        return;
    }
    let mut valid: Vec<&ScopeLit> = Vec::new();
    for scope in scopes {
        if !is_valid(scope, diagnostics) {
            continue;
        }
        if let Some(first) = valid.iter().find(|seen| seen.value.eq_ignore_ascii_case(&scope.value)) {
            let hint = if first.value == scope.value {
                String::new()
            } else {
                format!(" as `{}` (scopes are case-insensitive)", first.value)
            };
            diagnostics.error(scope.span, format!("`{}` is already listed{hint}: remove it", scope.value));
            continue;
        }
        valid.push(scope);
    }
    one_resource(&valid, diagnostics);
    default_alone(&valid, diagnostics);
    if let Some(declared) = declared {
        for scope in &valid {
            undeclared(scope, declared, diagnostics);
        }
    }
}

/// Syntax and reserved scopes.
fn is_valid(scope: &ScopeLit, diagnostics: &mut Diagnostics) -> bool {
    let value = &scope.value;
    let trimmed = value.trim();
    let problem = if trimmed.is_empty() {
        if value.is_empty() {
            "a scope cannot be empty: remove `\"\"`".to_owned()
        } else {
            "a scope cannot be blank: remove it".to_owned()
        }
    } else if trimmed.contains(char::is_whitespace) {
        let parts: Vec<String> = trimmed.split_whitespace().map(|part| format!("\"{part}\"")).collect();
        format!("a scope cannot contain whitespace: write each scope as its own string, `{}`", parts.join(", "))
    } else if trimmed != value {
        format!("a scope cannot contain whitespace: write `\"{trimmed}\"`")
    } else if let Some(bad) = value.chars().find(|c| !is_scope_char(*c)) {
        let shown = if bad.is_control() { bad.escape_default().to_string() } else { bad.to_string() };
        format!("`{value}` contains `{shown}`, which RFC 6749 (§3.3) does not allow in a scope")
    } else if RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(value)) {
        format!("`{value}` is requested by the runtime at every sign-in: remove it")
    } else {
        return true;
    };
    diagnostics.error(scope.span, problem);
    false
}

/// One access token serves one resource (Entra refuses scopes of two in one request).
fn one_resource(scopes: &[&ScopeLit], diagnostics: &mut Diagnostics) {
    let Some(first) = scopes.first() else { return };
    let (expected, _) = resource::split(&first.value);
    for scope in &scopes[1..] {
        let (found, _) = resource::split(&scope.value);
        if found != expected {
            diagnostics.error(
                scope.span,
                format!(
                    "scopes of two resources in one token: `{}` is for {expected}, `{}` for {found}; one token \
                     serves one resource, so give each resource its own `AccessToken` parameter with \
                     `#[scopes(\"...\")]`",
                    first.value, scope.value
                ),
            );
            return;
        }
    }
}

/// `.default` means every permission granted for the resource; explicit ones beside it are contradictory.
fn default_alone(scopes: &[&ScopeLit], diagnostics: &mut Diagnostics) {
    let Some(default) = scopes.iter().find(|scope| resource::split(&scope.value).1 == ".default") else { return };
    let (resource, _) = resource::split(&default.value);
    for scope in scopes {
        let (other_resource, name) = resource::split(&scope.value);
        if name != ".default" && other_resource == resource {
            diagnostics.error(
                scope.span,
                format!(
                    "`{}` already stands for every permission granted for {resource}: remove `{}`, or replace \
                     `.default` with the scopes you need",
                    default.value, scope.value
                ),
            );
        }
    }
}

fn undeclared(scope: &ScopeLit, declared: &Declared, diagnostics: &mut Diagnostics) {
    let (resource, name) = resource::split(&scope.value);
    if declared.allows(&resource, name) {
        return;
    }
    let source = &declared.source;
    let message = match (declared.names(&resource), declared.closest(&resource, name)) {
        (_, Some(closest)) => {
            let suggestion = match &resource {
                Resource::Named(_) if closest != name => scope.value.replace(name, closest),
                _ => closest.to_owned(),
            };
            format!("`{}` is not a declared permission ({source}): did you mean `{suggestion}`?", scope.value)
        }
        (Some(names), None) => format!(
            "`{}` is not a declared permission ({source}); declared for {resource}: {}",
            scope.value,
            names.join(", ")
        ),
        (None, None) => format!("`{}` is for {resource}, which declares no permissions ({source})", scope.value),
    };
    diagnostics.error(scope.span, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(values: &[&str]) -> Vec<ScopeLit> {
        values.iter().map(|value| ScopeLit { value: (*value).to_owned(), span: Span::call_site() }).collect()
    }

    fn check(values: &[&str]) -> Vec<String> {
        let mut diagnostics = Diagnostics::default();
        token_scopes(&lits(values), (Span::call_site(), "requires_scopes"), None, &mut diagnostics);
        diagnostics.messages()
    }

    #[test]
    fn accepts_well_formed_scopes_of_one_resource() {
        assert!(check(&["Mail.Read", "Mail.Send"]).is_empty());
        assert!(check(&["api://contoso/Orders.Read", "api://contoso/Orders.Write"]).is_empty());
        assert!(check(&["https://graph.microsoft.com/Mail.Read", "User.Read"]).is_empty(), "Graph is the default");
        assert!(check(&["api://contoso/.default"]).is_empty());
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let messages = check(&["", "  ", "Mail Read", " Mail.Send", "Mail\"Read", "openid", "User.Read", "user.read"]);
        assert_eq!(messages.len(), 7, "{messages:#?}");
        assert_eq!(messages[0], "a scope cannot be empty: remove `\"\"`");
        assert_eq!(messages[1], "a scope cannot be blank: remove it");
        assert_eq!(
            messages[2],
            "a scope cannot contain whitespace: write each scope as its own string, `\"Mail\", \"Read\"`"
        );
        assert_eq!(messages[3], "a scope cannot contain whitespace: write `\"Mail.Send\"`");
        assert_eq!(messages[4], "`Mail\"Read` contains `\"`, which RFC 6749 (§3.3) does not allow in a scope");
        assert_eq!(messages[5], "`openid` is requested by the runtime at every sign-in: remove it");
        assert_eq!(
            messages[6],
            "`user.read` is already listed as `User.Read` (scopes are case-insensitive): remove it"
        );
    }

    #[test]
    fn one_token_one_resource_and_default_alone() {
        let messages = check(&["Mail.Read", "api://contoso/Orders.Read"]);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("scopes of two resources in one token"), "{}", messages[0]);
        let messages = check(&["api://contoso/.default", "api://contoso/Orders.Read"]);
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("`api://contoso/.default` already stands for every permission"),
            "{}",
            messages[0]
        );
        assert_eq!(
            check(&[]),
            ["no scopes: name the scopes the handler needs, like `#[requires_scopes(\"Mail.Read\")]`"]
        );
    }

    #[test]
    fn the_rfc6749_character_set_matches_the_runtime() {
        for c in (0u8..=127).map(char::from).chain(['é', '€']) {
            let runtime = msal_runtime::Scope::new(&c.to_string()).is_ok();
            assert_eq!(is_scope_char(c), runtime, "{c:?}");
        }
        for reserved in RESERVED {
            assert!(msal_runtime::RESERVED_SCOPES.contains(&reserved));
        }
    }
}
