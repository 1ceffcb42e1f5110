//! Where the browser goes after sign-in or consent: same-origin relative paths only (docs/SECURITY.md §9).
//!
//! An open redirect after sign-in is the classic way to turn a trusted sign-in link into a phishing link, so
//! anything that a browser could read as another origin is refused: `//host` and `/\host` (browsers treat a
//! backslash as a slash), any scheme, control characters and anything not starting with a single `/`.

use std::fmt;

/// Longest return URL accepted; longer ones are refused rather than truncated.
const MAX_LEN: usize = 2048;

/// Why a return URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReturnUrlError {
    /// It does not start with a single `/`: a scheme, a host or a relative path.
    #[error("the return URL must be a path on this site starting with a single `/`")]
    NotAbsolutePath,
    /// It starts with `//` or `/\`, which browsers read as another host.
    #[error("the return URL must not start with `//` or `/\\`")]
    OtherHost,
    /// It holds a backslash, a control character, a space or a non-ASCII character.
    #[error("the return URL contains a character that must be percent-encoded")]
    InvalidCharacter,
    /// It is longer than 2048 bytes.
    #[error("the return URL is longer than {MAX_LEN} bytes")]
    TooLong,
}

/// A validated same-origin path (with optional query and fragment), such as `/mail?folder=inbox`.
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnUrl(String);

impl ReturnUrl {
    /// Validates a return URL taken from a request.
    pub fn parse(value: &str) -> Result<Self, ReturnUrlError> {
        if value.len() > MAX_LEN {
            return Err(ReturnUrlError::TooLong);
        }
        let bytes = value.as_bytes();
        if bytes.first() != Some(&b'/') {
            return Err(ReturnUrlError::NotAbsolutePath);
        }
        if matches!(bytes.get(1), Some(b'/' | b'\\')) {
            return Err(ReturnUrlError::OtherHost);
        }
        // Visible ASCII only: a tab or newline inside `/\t/evil` is stripped by browsers (WHATWG URL), and a
        // backslash anywhere is normalised to `/`, so neither may reach a `Location` header.
        if !bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'\\') {
            return Err(ReturnUrlError::InvalidCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    /// The site root, `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// The path, ready for a `Location` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ReturnUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_same_origin_paths() {
        for good in ["/", "/mail", "/mail/compose?to=a%40b.example&x=1#top", "/a/b//c", "/%2F%2Fevil.example"] {
            assert_eq!(ReturnUrl::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn refuses_everything_that_can_leave_the_site() {
        let cases = [
            ("//evil.example", ReturnUrlError::OtherHost),
            ("/\\evil.example", ReturnUrlError::OtherHost),
            ("https://evil.example", ReturnUrlError::NotAbsolutePath),
            ("javascript:alert(1)", ReturnUrlError::NotAbsolutePath),
            ("evil.example/path", ReturnUrlError::NotAbsolutePath),
            ("", ReturnUrlError::NotAbsolutePath),
            (" /mail", ReturnUrlError::NotAbsolutePath),
            ("/\t/evil.example", ReturnUrlError::InvalidCharacter),
            ("/\n/evil.example", ReturnUrlError::InvalidCharacter),
            ("/a\\b", ReturnUrlError::InvalidCharacter),
            ("/a b", ReturnUrlError::InvalidCharacter),
            ("/caf\u{e9}", ReturnUrlError::InvalidCharacter),
        ];
        for (input, expected) in cases {
            assert_eq!(ReturnUrl::parse(input), Err(expected), "{input:?}");
        }
        assert_eq!(ReturnUrl::parse(&format!("/{}", "a".repeat(MAX_LEN))), Err(ReturnUrlError::TooLong));
    }
}
