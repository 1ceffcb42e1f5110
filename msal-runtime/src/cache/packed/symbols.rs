//! The strings many users share (environment, client id, tenant, scope targets, credential types), kept once
//! for the whole process and named by a number in each packed partition.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::{RwLock, RwLockReadGuard};

/// Symbols kept at most, and their bytes at most. Only what the provider issued or an imported cache holds is
/// ever interned (never request input), but even a misbehaving provider or a foreign cache must not grow the
/// table without end: past either bound, values are stored with their partition instead.
const MAX_SYMBOLS: usize = 1 << 16;
const MAX_SYMBOL_BYTES: usize = 4 << 20;

/// Longer values are never shared: they are a user's own (a token's oversized target), and sharing them
/// would spend the bound on what no other user repeats.
const MAX_SHARED_LEN: usize = 512;

#[derive(Default)]
pub(super) struct Symbols {
    ids: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    names: Vec<Arc<str>>,
    bytes: usize,
}

fn symbols() -> &'static RwLock<Symbols> {
    static SYMBOLS: OnceLock<RwLock<Symbols>> = OnceLock::new();
    SYMBOLS.get_or_init(RwLock::default)
}

/// The symbol of `value`, interning it if there is room; `None` when it is too long or the table is full.
pub(super) fn symbol(value: &str) -> Option<u32> {
    if value.len() > MAX_SHARED_LEN {
        return None;
    }
    if let Some(&id) = symbols().read().ids.get(value) {
        return Some(id);
    }
    let mut symbols = symbols().write();
    if let Some(&id) = symbols.ids.get(value) {
        return Some(id);
    }
    if symbols.names.len() >= MAX_SYMBOLS || symbols.bytes + value.len() > MAX_SYMBOL_BYTES {
        return None;
    }
    let id = symbols.names.len() as u32;
    let name: Arc<str> = value.into();
    symbols.bytes += value.len();
    symbols.names.push(Arc::clone(&name));
    symbols.ids.insert(name, id);
    Some(id)
}

/// Every symbol, for reading a partition back.
pub(super) fn read() -> RwLockReadGuard<'static, Symbols> {
    symbols().read()
}

impl Symbols {
    /// The value of a symbol; `None` for a number that was never handed out (a corrupted partition).
    pub(super) fn get(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|name| &**name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_one_symbol_for_everyone_and_long_values_are_not_shared() {
        let id = symbol("login.symbols-test.example").unwrap();
        assert_eq!(symbol("login.symbols-test.example"), Some(id));
        assert_ne!(symbol("other.symbols-test.example"), Some(id));
        assert_eq!(read().get(id), Some("login.symbols-test.example"));
        assert_eq!(symbol(&"x".repeat(MAX_SHARED_LEN + 1)), None);
        assert_eq!(read().get(u32::MAX), None);
    }
}
