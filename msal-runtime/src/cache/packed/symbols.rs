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

pub(super) struct Symbols {
    ids: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    names: Vec<Arc<str>>,
    bytes: usize,
    max_symbols: usize,
    max_bytes: usize,
}

fn symbols() -> &'static RwLock<Symbols> {
    static SYMBOLS: OnceLock<RwLock<Symbols>> = OnceLock::new();
    SYMBOLS.get_or_init(|| RwLock::new(Symbols::with_bounds(MAX_SYMBOLS, MAX_SYMBOL_BYTES)))
}

/// The symbol of `value`, interning it if there is room; `None` when it is too long or the table is full.
pub(super) fn symbol(value: &str) -> Option<u32> {
    if value.len() > MAX_SHARED_LEN {
        return None;
    }
    if let Some(&id) = symbols().read().ids.get(value) {
        return Some(id);
    }
    symbols().write().intern(value)
}

/// Every symbol, for reading a partition back.
pub(super) fn read() -> RwLockReadGuard<'static, Symbols> {
    symbols().read()
}

impl Symbols {
    fn with_bounds(max_symbols: usize, max_bytes: usize) -> Self {
        Self { ids: HashMap::default(), names: Vec::new(), bytes: 0, max_symbols, max_bytes }
    }

    /// The symbol of `value`, a new one if there is room.
    fn intern(&mut self, value: &str) -> Option<u32> {
        if let Some(&id) = self.ids.get(value) {
            return Some(id);
        }
        if self.names.len() >= self.max_symbols || self.bytes + value.len() > self.max_bytes {
            return None;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = value.into();
        self.bytes += value.len();
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        Some(id)
    }

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

    #[test]
    fn the_table_stops_growing_at_either_bound_and_keeps_what_it_has() {
        let mut by_count = Symbols::with_bounds(2, 1000);
        let (a, b) = (by_count.intern("a"), by_count.intern("b"));
        assert!(a.is_some() && b.is_some());
        assert_eq!(by_count.intern("c"), None, "full");
        assert_eq!((by_count.intern("a"), by_count.get(b.unwrap())), (a, Some("b")), "what it has still answers");
        let mut by_bytes = Symbols::with_bounds(1000, 10);
        assert!(by_bytes.intern("123456").is_some());
        assert_eq!(by_bytes.intern("12345"), None, "11 bytes");
        assert!(by_bytes.intern("1234").is_some());
    }
}
