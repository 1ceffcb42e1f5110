//! Query strings and form bodies as OAuth reads them: each parameter at most once (RFC 6749 §3.1, §3.2),
//! so that `state=a&state=b` cannot mean one thing to a proxy and another to us.

use std::collections::BTreeMap;

/// Why parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// A parameter appears twice.
    #[error("the parameter `{0}` appears more than once")]
    Duplicate(String),
}

/// Parsed `application/x-www-form-urlencoded` parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    pub(crate) fn parse(input: &[u8]) -> Result<Self, ParamsError> {
        let mut params = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(input) {
            if params.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ParamsError::Duplicate(name.into_owned()));
            }
        }
        Ok(Self(params))
    }

    /// The value of `name`; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses_duplicates() {
        let params = Params::parse(b"code=a%2Bb&state=x+y&empty=").unwrap();
        assert_eq!(params.get("code"), Some("a+b"));
        assert_eq!(params.get("state"), Some("x y"));
        assert_eq!(params.get("empty"), None);
        assert_eq!(params.get("missing"), None);
        assert_eq!(Params::parse(b"state=a&state=b").unwrap_err(), ParamsError::Duplicate("state".into()));
        assert!(Params::parse(b"%FF%FE=%00&&=").is_ok(), "invalid UTF-8 is replaced, not a panic");
    }
}
