//! Which resource (API) a scope is for: one access token serves one resource.
//!
//! `api://contoso/Orders.Read` and `https://contoso.example/api/Orders.Read` name their resource before the
//! last `/`. A scope without one (`Mail.Read`) is for the provider's default resource, which on Entra is
//! Microsoft Graph, so Graph's own names for itself count as the default resource too.

use std::fmt;

/// Microsoft Graph's resource names on Entra, equivalent to writing no resource.
const GRAPH: [&str; 2] = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];

/// A resource, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Resource {
    /// Written without a resource (Entra: Microsoft Graph).
    Default,
    /// Lowercased resource URI or id, without a trailing `/`.
    Named(String),
}

impl Resource {
    /// The resource of a declaration key: `default`, a URI or an application id.
    pub(crate) fn from_key(key: &str) -> Resource {
        if key == "default" { Resource::Default } else { normalize(key) }
    }
}

fn normalize(resource: &str) -> Resource {
    let resource = resource.trim_end_matches('/').to_ascii_lowercase();
    if GRAPH.contains(&resource.as_str()) { Resource::Default } else { Resource::Named(resource) }
}

/// Splits a scope into its resource and its permission name (`.default` included).
pub(crate) fn split(scope: &str) -> (Resource, &str) {
    match scope.rfind('/') {
        Some(at) if at + 1 < scope.len() => (normalize(&scope[..at]), &scope[at + 1..]),
        _ => (Resource::Default, scope),
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Default => f.write_str("the default resource (Microsoft Graph on Entra)"),
            Resource::Named(name) => write!(f, "`{name}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_resource_of_each_form_of_scope() {
        assert_eq!(split("Mail.Read"), (Resource::Default, "Mail.Read"));
        assert_eq!(split("https://graph.microsoft.com/Mail.Read"), (Resource::Default, "Mail.Read"));
        assert_eq!(split("00000003-0000-0000-c000-000000000000/User.Read"), (Resource::Default, "User.Read"));
        assert_eq!(split("api://Contoso/Orders.Read"), (Resource::Named("api://contoso".into()), "Orders.Read"));
        assert_eq!(
            split("https://contoso.example/api/.default"),
            (Resource::Named("https://contoso.example/api".into()), ".default")
        );
        assert_eq!(Resource::from_key("default"), Resource::Default);
        assert_eq!(Resource::from_key("https://graph.microsoft.com/"), Resource::Default);
        assert_eq!(Resource::from_key("api://contoso/"), Resource::Named("api://contoso".into()));
    }
}
