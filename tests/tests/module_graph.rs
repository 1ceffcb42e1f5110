//! The shape of `msal-runtime` as its sources say it: which module imports which. Every file is a module;
//! an edge goes from a module to each module a `use` or a path in its code names (`crate::…`, `super::…`,
//! `self::…`; test-only code, `#[cfg(test)]`, is left out, as it is no part of the library).
//!
//! `cargo test -p msal-tests --test module_graph` checks that no module imports one that imports it back
//! (directly or through others), between files and between the top-level folders, and that nothing but the
//! extractors and the crate's re-exports reaches the `Msal` facade. `MODULE_GRAPH=print` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module path as written in the crate: `["acquire", "refresh"]`; the root is `[]`.
type ModulePath = Vec<String>;

fn runtime_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../msal-runtime/src")
}

/// The module a file is: `lib.rs` is the root, `a/mod.rs` is `a`, `a/b.rs` is `a::b`.
fn module_of(file: &Path, src: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: ModulePath = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && attr.parse_args::<syn::Meta>().is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Every `crate`/`super`/`self` path of one file, as written (segments), outside test-only code.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

impl Paths {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.push_with(prefix, &name.ident),
            syn::UseTree::Rename(rename) => self.push_with(prefix, &rename.ident),
            syn::UseTree::Glob(_) => self.0.push(prefix.clone()),
            syn::UseTree::Group(group) => group.items.iter().for_each(|item| self.use_tree(prefix, item)),
        }
    }

    fn push_with(&mut self, prefix: &[String], last: &syn::Ident) {
        let mut path = prefix.to_vec();
        if last != "self" {
            path.push(last.to_string());
        }
        self.0.push(path);
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(item) => &item.attrs,
            syn::Item::Fn(item) => &item.attrs,
            syn::Item::Impl(item) => &item.attrs,
            syn::Item::Use(item) => &item.attrs,
            syn::Item::Struct(item) => &item.attrs,
            syn::Item::Enum(item) => &item.attrs,
            syn::Item::Const(item) => &item.attrs,
            _ => &Vec::new(),
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_impl_item_fn(self, item);
        }
    }

    /// `pub(crate)`, `pub(super)`: a visibility names who may see an item, not a dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0.push(path.segments.iter().map(|segment| segment.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

/// The module graph of msal-runtime: each module and the modules it imports.
fn module_graph() -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let src = runtime_src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<ModulePath> = files.iter().map(|file| module_of(file, &src)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(file, &src);
        let syntax = syn::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut paths = Paths::default();
        paths.visit_file(&syntax);
        let imports: BTreeSet<ModulePath> = paths
            .0
            .iter()
            .filter_map(|path| resolve(&module, path, &modules))
            .filter(|target| *target != module)
            .collect();
        graph.insert(module, imports);
    }
    graph
}

/// The module `path` names from inside `module`: the longest module its absolute form starts with. `None`
/// for paths into other crates and local names.
fn resolve(module: &ModulePath, path: &[String], modules: &BTreeSet<ModulePath>) -> Option<ModulePath> {
    let mut absolute: ModulePath = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => module.clone(),
        Some("super") => {
            let mut parent = module.clone();
            parent.pop();
            parent
        }
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|segment| segment == "super") {
        absolute.pop();
        rest = &rest[1..];
    }
    absolute.extend(rest.iter().cloned());
    (0..=absolute.len()).rev().map(|len| absolute[..len].to_vec()).find(|prefix| modules.contains(prefix))
}

fn name(module: &ModulePath) -> String {
    if module.is_empty() { "crate (lib.rs)".to_owned() } else { module.join("::") }
}

/// The strongly connected components of more than one node (Tarjan): each is a set of modules that import
/// each other in a loop.
fn cycles(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        index: BTreeMap<&'g ModulePath, usize>,
        low: BTreeMap<&'g ModulePath, usize>,
        stack: Vec<&'g ModulePath>,
        on_stack: BTreeSet<&'g ModulePath>,
        found: Vec<Vec<ModulePath>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g ModulePath) {
            let next = self.index.len();
            self.index.insert(node, next);
            self.low.insert(node, next);
            self.stack.push(node);
            self.on_stack.insert(node);
            for target in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[node].min(self.low[target]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(target) {
                    let low = self.low[node].min(self.index[target]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found
}

fn describe(cycles: &[Vec<ModulePath>]) -> String {
    cycles.iter().map(|cycle| cycle.iter().map(name).collect::<Vec<_>>().join(" <-> ")).collect::<Vec<_>>().join("\n")
}

/// The graph between top-level folders (`sign_in`, `cache`, …): an edge wherever a module of one imports a
/// module of another. The crate root and `error` only re-export, so they are left out.
fn folder_graph(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let top = |module: &ModulePath| -> Option<ModulePath> {
        let first = module.first()?;
        (first != "error").then(|| vec![first.clone()])
    };
    let mut folders: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for (module, imports) in graph {
        let Some(from) = top(module) else { continue };
        let entry = folders.entry(from.clone()).or_default();
        entry.extend(imports.iter().filter_map(top).filter(|to| *to != from));
    }
    folders
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let graph = module_graph();
    if std::env::var("MODULE_GRAPH").as_deref() == Ok("print") {
        for (module, imports) in &graph {
            println!("{} -> {}", name(module), imports.iter().map(name).collect::<Vec<_>>().join(", "));
        }
    }
    assert!(graph.len() > 40, "the sources were found: {} modules", graph.len());
    let found = cycles(&graph);
    assert!(found.is_empty(), "modules that import each other in a loop:\n{}", describe(&found));
}

#[test]
fn no_folder_imports_a_folder_that_imports_it_back() {
    let folders = folder_graph(&module_graph());
    if std::env::var("MODULE_GRAPH").as_deref() == Ok("print") {
        for (folder, imports) in &folders {
            println!("{} -> {}", name(folder), imports.iter().map(name).collect::<Vec<_>>().join(", "));
        }
    }
    assert!(folders.contains_key(&vec!["sign_in".to_owned()]), "{folders:?}");
    let found = cycles(&folders);
    assert!(found.is_empty(), "folders that import each other in a loop:\n{}", describe(&found));
}

#[test]
fn only_the_extractors_and_the_crate_root_reach_the_facade() {
    let graph = module_graph();
    let facade = vec!["msal".to_owned()];
    let importers: Vec<String> =
        graph.iter().filter(|(_, imports)| imports.contains(&facade)).map(|(module, _)| name(module)).collect();
    // `testing` (the feature for apps' own tests) builds an `Msal` over its in-memory provider and writes
    // sessions and tokens through it: it stands beside the extractors, above the facade, and nothing imports it.
    let allowed = |module: &str| {
        module.starts_with("extract::")
            || module == "testing"
            || module.starts_with("testing::")
            || module == "error"
            || module == "crate (lib.rs)"
    };
    let others: Vec<&String> = importers.iter().filter(|module| !allowed(module)).collect();
    assert!(others.is_empty(), "modules below the facade import it: {others:?}");
    assert!(importers.iter().any(|module| module.starts_with("extract::")), "{importers:?}");
}

#[test]
fn the_checker_finds_a_loop_when_there_is_one() {
    let module = |name: &str| vec![name.to_owned()];
    let graph: BTreeMap<ModulePath, BTreeSet<ModulePath>> = [
        (module("config"), BTreeSet::from([module("provider")])),
        (module("provider"), BTreeSet::from([module("msal")])),
        (module("msal"), BTreeSet::from([module("config")])),
        (module("cache"), BTreeSet::from([module("provider")])),
    ]
    .into();
    assert_eq!(describe(&cycles(&graph)), "config <-> msal <-> provider");
    let modules = BTreeSet::from([vec![], module("acquire"), vec!["acquire".to_owned(), "refresh".to_owned()]]);
    let inside = vec!["acquire".to_owned(), "silent".to_owned()];
    let resolved = |path: &[&str]| {
        resolve(&inside, &path.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &modules).map(|m| name(&m))
    };
    assert_eq!(resolved(&["super", "refresh", "Refresher"]).as_deref(), Some("acquire::refresh"));
    assert_eq!(resolved(&["crate", "acquire", "refresh", "Refresher"]).as_deref(), Some("acquire::refresh"));
    assert_eq!(resolved(&["crate", "Msal"]).as_deref(), Some("crate (lib.rs)"));
    assert_eq!(resolved(&["std", "sync", "Arc"]), None);
}
