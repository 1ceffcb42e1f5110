//! Declared permissions: the scopes the app registered with its identity provider, so that a scope the app
//! was never granted fails the build instead of production. Like sqlx's offline query data, the declaration
//! is read at compile time and tracked, so editing it rebuilds the crate.
//!
//! Read from `[package.metadata.msal.permissions]` of the crate's Cargo.toml, or from the file named by
//! `permissions = "…"` (a `[permissions]` table, the path relative to the source file, as `include_str!`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use syn::LitStr;

use crate::diagnostics::Diagnostics;
use crate::resource::{self, Resource};

/// The declaration of one crate.
#[derive(Debug)]
pub(crate) struct Declared {
    /// The file it came from, tracked for rebuilds.
    pub(crate) path: PathBuf,
    /// Where to say it is, in messages.
    pub(crate) source: String,
    scopes: BTreeMap<Resource, Vec<String>>,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    msal: Option<Section>,
}

#[derive(Deserialize)]
struct Section {
    permissions: Option<BTreeMap<String, Vec<String>>>,
}

impl Declared {
    fn new(path: PathBuf, source: String, table: BTreeMap<String, Vec<String>>) -> Self {
        let mut scopes: BTreeMap<Resource, Vec<String>> = BTreeMap::new();
        for (key, names) in table {
            for name in names {
                // An entry may be written in full (`api://contoso/Orders.Read`) under any key.
                let (resource, name) = if name.contains('/') {
                    let (resource, short) = resource::split(&name);
                    (resource, short.to_owned())
                } else {
                    (Resource::from_key(&key), name)
                };
                scopes.entry(resource).or_default().push(name);
            }
        }
        Self { path, source, scopes }
    }

    /// The permission names declared for `resource`, or `None` when the resource is not declared at all.
    pub(crate) fn names(&self, resource: &Resource) -> Option<&[String]> {
        self.scopes.get(resource).map(Vec::as_slice)
    }

    /// Whether the scope `name` of `resource` is declared (`.default` is, for a declared resource).
    pub(crate) fn allows(&self, resource: &Resource, name: &str) -> bool {
        self.names(resource)
            .is_some_and(|names| name == ".default" || names.iter().any(|declared| declared.eq_ignore_ascii_case(name)))
    }

    /// The declared name closest to `name` (a typo's likely intent), if one is close enough.
    pub(crate) fn closest(&self, resource: &Resource, name: &str) -> Option<&str> {
        let candidates = self.names(resource).into_iter().flatten().chain(self.scopes.values().flatten());
        candidates
            .map(|candidate| {
                let distance = strsim::damerau_levenshtein(&candidate.to_ascii_lowercase(), &name.to_ascii_lowercase());
                (distance, candidate.as_str())
            })
            .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, candidate)| candidate)
    }
}

/// Loads the declaration: from `permissions = "…"` when given, else from Cargo.toml when it has one.
pub(crate) fn load(permissions: Option<&LitStr>, diagnostics: &mut Diagnostics) -> Option<Declared> {
    match permissions {
        Some(path) => {
            let file = relative_to_source(path);
            let table = read(&file).and_then(|text| {
                #[derive(Deserialize)]
                struct File {
                    permissions: BTreeMap<String, Vec<String>>,
                }
                toml::from_str::<File>(&text).map(|file| file.permissions).map_err(|error| error.to_string())
            });
            match table {
                Ok(table) => Some(Declared::new(file, path.value(), table)),
                Err(error) => {
                    diagnostics.error(
                        path.span(),
                        format!("cannot read declared permissions from {}: {error}", file.display()),
                    );
                    None
                }
            }
        }
        None => {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?).join("Cargo.toml");
            let text = read(&manifest).ok()?;
            match toml::from_str::<Manifest>(&text) {
                Ok(parsed) => {
                    let table = parsed.package?.metadata?.msal?.permissions?;
                    Some(Declared::new(manifest, "[package.metadata.msal.permissions] of Cargo.toml".to_owned(), table))
                }
                Err(error) => {
                    let message = format!("cannot read declared permissions from {}: {error}", manifest.display());
                    diagnostics.error(proc_macro2::Span::call_site(), message);
                    None
                }
            }
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| error.to_string())
}

/// `path` relative to the directory of the source file holding the attribute, as `include_str!` resolves it.
fn relative_to_source(path: &LitStr) -> PathBuf {
    let written = PathBuf::from(path.value());
    if written.is_absolute() {
        return written;
    }
    let source_dir = proc_macro::Span::call_site().local_file().and_then(|file| file.parent().map(Path::to_path_buf));
    let base = source_dir.or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)).unwrap_or_default();
    base.join(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Declared {
        let table: BTreeMap<String, Vec<String>> = toml::from_str(
            r#"
            default = ["Mail.Read", "Mail.Send", "User.Read"]
            "api://contoso" = ["Orders.Read"]
            other = ["api://fabrikam/Invoices.Read"]
            "#,
        )
        .unwrap();
        Declared::new(PathBuf::from("Cargo.toml"), "Cargo.toml".into(), table)
    }

    #[test]
    fn allows_declared_scopes_in_any_case() {
        let declared = declared();
        assert!(declared.allows(&Resource::Default, "mail.read"));
        assert!(declared.allows(&Resource::Named("api://contoso".into()), "Orders.Read"));
        assert!(declared.allows(&Resource::Named("api://contoso".into()), ".default"));
        assert!(declared.allows(&Resource::Named("api://fabrikam".into()), "Invoices.Read"));
        assert!(!declared.allows(&Resource::Default, "Mail.ReadWrite"));
        assert!(!declared.allows(&Resource::Named("api://unknown".into()), ".default"));
    }

    #[test]
    fn suggests_the_closest_declared_scope() {
        let declared = declared();
        assert_eq!(declared.closest(&Resource::Default, "Mail.Sned"), Some("Mail.Send"));
        assert_eq!(declared.closest(&Resource::Default, "mail.raed"), Some("Mail.Read"));
        assert_eq!(declared.closest(&Resource::Named("api://contoso".into()), "Order.Read"), Some("Orders.Read"));
        assert_eq!(declared.closest(&Resource::Default, "Calendars.ReadWrite"), None);
    }
}
