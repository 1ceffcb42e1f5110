//! Scopes (RFC 6749 §3.3) and normalised scope sets.
//!
//! Scope values are compared case-insensitively, as MSAL does and Entra treats them; the spelling the app
//! used is kept for the requests it sends.

use std::cmp::Ordering;
use std::fmt;

/// The scopes every sign-in asks for and the runtime adds by itself (OpenID Connect Core §3.1.2.1, §11).
pub const RESERVED_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// Why a string is not a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An empty or blank scope.
    #[error("a scope cannot be empty")]
    Empty,
    /// A character outside RFC 6749's `scope-token` (`%x21 / %x23-5B / %x5D-7E`).
    #[error("scope {scope:?} contains {found:?}, which RFC 6749 §3.3 does not allow in a scope")]
    InvalidCharacter {
        /// The scope as given.
        scope: String,
        /// The first character that is not allowed.
        found: char,
    },
}

/// One validated scope, such as `Mail.Read` or `api://contoso/Orders.Read`.
#[derive(Clone, Eq)]
pub struct Scope(Box<str>);

impl Scope {
    /// Validates `value` as an RFC 6749 `scope-token`.
    pub fn new(value: &str) -> Result<Self, ScopeError> {
        if value.is_empty() {
            return Err(ScopeError::Empty);
        }
        if let Some(found) = value.chars().find(|&c| !is_scope_char(c)) {
            return Err(ScopeError::InvalidCharacter { scope: value.to_owned(), found });
        }
        Ok(Self(value.into()))
    }

    /// The scope as the app spelled it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `openid`, `profile` or `offline_access`.
    pub fn is_reserved(&self) -> bool {
        RESERVED_SCOPES.iter().any(|reserved| reserved.eq_ignore_ascii_case(&self.0))
    }
}

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes().map(|b| b.to_ascii_lowercase()).cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// Hashes what `eq` compares: the lowercased scope.
impl std::hash::Hash for Scope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for byte in self.0.bytes() {
            state.write_u8(byte.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_ignore_case(&self.0, &other.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes: sorted, without duplicates, compared case-insensitively.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a space-delimited `scope` parameter (RFC 6749 §3.3). Runs of spaces are tolerated.
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        value.split(' ').filter(|s| !s.is_empty()).map(Scope::new).collect()
    }

    /// Validates each scope and builds the set.
    pub fn from_strs<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        scopes.into_iter().map(Scope::new).collect()
    }

    /// The reserved OpenID Connect scopes.
    pub fn reserved() -> Self {
        Self::from_strs(RESERVED_SCOPES).expect("the reserved scopes are valid")
    }

    /// Adds a scope; a scope already present (in any case) is kept as first spelled.
    pub fn insert(&mut self, scope: Scope) {
        if let Err(at) = self.0.binary_search(&scope) {
            self.0.insert(at, scope);
        }
    }

    /// Every scope of `self` and of `other`.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        let mut union = self.clone();
        for scope in other.iter() {
            union.insert(scope.clone());
        }
        union
    }

    /// The scopes other than `openid`, `profile` and `offline_access`.
    pub fn without_reserved(&self) -> ScopeSet {
        ScopeSet(self.0.iter().filter(|s| !s.is_reserved()).cloned().collect())
    }

    /// Whether every scope of `other` is in `self` (case-insensitive). Both are sorted: one merge walk.
    pub fn is_superset_of(&self, other: &ScopeSet) -> bool {
        let mut mine = self.0.iter();
        'wanted: for wanted in &other.0 {
            for have in mine.by_ref() {
                match have.cmp(wanted) {
                    Ordering::Less => continue,
                    Ordering::Equal => continue 'wanted,
                    Ordering::Greater => return false,
                }
            }
            return false;
        }
        true
    }

    /// Whether the two sets share a scope.
    pub fn intersects(&self, other: &ScopeSet) -> bool {
        self.0.iter().any(|scope| other.contains(scope))
    }

    /// Whether `scope` is in the set (case-insensitive).
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.binary_search(scope).is_ok()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in sorted order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Scope> {
        self.0.iter()
    }

    /// The space-delimited form for a `scope` parameter or MSAL's `target` field.
    pub fn to_scope_string(&self) -> String {
        let mut out = String::new();
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(scope.as_str());
        }
        out
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes: Vec<Scope> = iter.into_iter().collect();
        scopes.sort();
        scopes.dedup();
        Self(scopes)
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    #[test]
    fn rejects_characters_outside_scope_token() {
        assert_eq!(Scope::new(""), Err(ScopeError::Empty));
        for bad in ["Mail Read", "Mail\"Read", "Mail\\Read", "Mail\u{7f}", "Mäil", "a\tb"] {
            assert!(matches!(Scope::new(bad), Err(ScopeError::InvalidCharacter { .. })), "{bad:?}");
        }
        for good in ["Mail.Read", "api://contoso/Orders.Read", "https://graph.microsoft.com/.default", "!#[]~"] {
            assert!(Scope::new(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn sets_normalise_order_case_and_duplicates() {
        let a = set("Mail.Send  mail.read Mail.Read");
        assert_eq!(a.len(), 2);
        assert_eq!(a.to_scope_string(), "mail.read Mail.Send");
        assert_eq!(a, set("MAIL.READ mail.send"));
    }

    #[test]
    fn superset_is_case_insensitive_and_exact() {
        let have = set("openid profile Mail.Read Mail.Send");
        assert!(have.is_superset_of(&set("mail.read")));
        assert!(have.is_superset_of(&set("MAIL.SEND Mail.Read openid")));
        assert!(have.is_superset_of(&ScopeSet::new()));
        assert!(!have.is_superset_of(&set("Mail.ReadWrite")));
        assert!(!have.is_superset_of(&set("Mail.Read Zzz")));
        assert!(!set("").is_superset_of(&set("a")));
    }

    #[test]
    fn reserved_scopes_are_recognised_in_any_case() {
        let scopes = set("OpenID Profile offline_access Mail.Read");
        assert_eq!(scopes.without_reserved(), set("Mail.Read"));
        assert!(ScopeSet::reserved().union(&set("Mail.Read")).is_superset_of(&scopes));
    }

    #[test]
    fn intersects() {
        assert!(set("a b").intersects(&set("B c")));
        assert!(!set("a b").intersects(&set("c")));
    }
}
