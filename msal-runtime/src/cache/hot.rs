//! The hot path of a cache hit: a request's scopes as small interned ids, and what a lookup without a load
//! says.
//!
//! With 100,000 users cached, a hit is bound by memory latency, not by computation: comparing scope strings
//! on the heap would cost a cache miss per scope. So the scopes of each stored access token of the app's client
//! are kept as sorted 16-bit ids (see `packed`), and a request's scopes are turned into ids once per lookup,
//! without allocating.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::RwLock;

use crate::cache::partition;
use crate::scope::set::{Scope, ScopeSet};
use crate::secret::Secret;

/// Most scopes of one token with ids; tokens with more are left to the full rules.
const MAX_SCOPES: usize = 12;
/// Distinct scope names interned at most. Only provider-issued targets are interned, never request input,
/// but the bound keeps even a misbehaving provider from growing it without end.
const MAX_INTERNED: usize = 1 << 16;

type Ids = HashMap<Scope, u16, foldhash::fast::RandomState>;
type Interner = RwLock<Ids>;

/// The id of `scope`, a new one if fewer than `max` are handed out.
fn intern(ids: &mut Ids, scope: &Scope, max: usize) -> Option<u16> {
    if let Some(&id) = ids.get(scope) {
        return Some(id);
    }
    let next = ids.len();
    (next < max).then(|| *ids.entry(scope.clone()).or_insert(next as u16))
}

fn interner() -> &'static Interner {
    static INTERNER: OnceLock<Interner> = OnceLock::new();
    INTERNER.get_or_init(Interner::default)
}

/// Scope ids, sorted: the scopes of a token or of a request. Ids are 16 bits, as the interner's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScopeIds {
    ids: [u16; MAX_SCOPES],
    len: u8,
}

impl ScopeIds {
    /// The ids of `scopes`, each found (or interned) by `id`; `None` when one has none, or there are too many.
    fn collect(scopes: &ScopeSet, mut id: impl FnMut(&Scope) -> Option<u16>) -> Option<Self> {
        if scopes.len() > MAX_SCOPES {
            return None;
        }
        let mut out = Self { ids: [0; MAX_SCOPES], len: scopes.len() as u8 };
        for (slot, scope) in out.ids.iter_mut().zip(scopes.iter()) {
            *slot = id(scope)?;
        }
        out.ids[..scopes.len()].sort_unstable();
        Some(out)
    }

    fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    /// The ids of a request's scopes; `None` when a scope was never issued (no token with ids can hold it)
    /// or there are too many.
    ///
    /// Read from the calling thread's copy of the ids it has needed before: ids never change once handed out,
    /// and the shared table's lock would be written (its reader count) by every request, on every core. A copy
    /// holds only ids the shared table has, so it is bounded as that table is.
    pub(crate) fn of_request(scopes: &ScopeSet) -> Option<Self> {
        thread_local! {
            static KNOWN: RefCell<Ids> = RefCell::default();
        }
        KNOWN.with_borrow_mut(|known| {
            Self::collect(scopes, |scope| match known.get(scope) {
                Some(&id) => Some(id),
                None => {
                    let id = *interner().read().get(scope)?;
                    known.insert(scope.clone(), id);
                    Some(id)
                }
            })
        })
    }

    /// The ids of an issued token's scopes, interning new names; `None` when there are too many, or the
    /// interner is full.
    pub(crate) fn of_token(scopes: &ScopeSet) -> Option<Self> {
        Self::collect(scopes, |scope| {
            if let Some(&id) = interner().read().get(scope) {
                return Some(id);
            }
            intern(&mut interner().write(), scope, MAX_INTERNED)
        })
    }

    /// Whether every id of `request` is in `self`: one merge walk over two sorted arrays.
    pub(crate) fn covers(&self, request: &ScopeIds) -> bool {
        let mut mine = self.as_slice().iter();
        request.as_slice().iter().all(|wanted| mine.by_ref().any(|have| have == wanted))
    }
}

/// A cached access token, as a lookup without a load hands it out.
#[derive(Debug, Clone)]
pub(crate) struct HotToken {
    pub(crate) secret: Secret,
    pub(crate) expires_on: u64,
    /// MSAL's `refresh_on`.
    pub(crate) refresh_on: Option<u64>,
}

impl HotToken {
    /// Whether the token should be refreshed early by now (MSAL's `refresh_on`).
    pub(crate) fn due_for_refresh(&self, now: u64) -> bool {
        partition::due_for_refresh(self.refresh_on, now)
    }
}

/// What a lookup without a load says about a request.
#[derive(Debug)]
pub(crate) enum HotLookup {
    /// This token serves (the caller still checks `refresh_on`).
    Hit(HotToken),
    /// No cached token serves the request.
    Miss,
    /// Only a load can tell (the store keeps no summary, and then not even whether the partition exists; or
    /// a token's scopes have no ids): load the partition and apply the full rules.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(scopes: &str) -> Option<ScopeIds> {
        ScopeIds::of_token(&ScopeSet::parse(scopes).unwrap())
    }

    #[test]
    fn a_token_covers_the_requests_within_its_scopes_whatever_their_case_or_order() {
        let token = ids("Mail.Read Mail.Send hot-test.Orders.Read").unwrap();
        for covered in ["mail.read", "MAIL.SEND Mail.Read", "hot-test.orders.read mail.send", ""] {
            let request = ScopeIds::of_request(&ScopeSet::parse(covered).unwrap()).unwrap();
            assert!(token.covers(&request), "{covered}");
        }
        let other = ids("hot-test.Calendars.Read").unwrap();
        assert!(!token.covers(&other));
        assert!(ScopeIds::of_request(&ScopeSet::parse("hot-test.Never.Issued").unwrap()).is_none());
    }

    #[test]
    fn ids_stop_at_the_bound_and_the_ones_handed_out_stay() {
        let mut ids = Ids::default();
        let scope = |name: &str| Scope::new(name).unwrap();
        assert_eq!(intern(&mut ids, &scope("a"), 2), Some(0));
        assert_eq!(intern(&mut ids, &scope("b"), 2), Some(1));
        assert_eq!(intern(&mut ids, &scope("c"), 2), None, "full: the token is left to the full rules");
        assert_eq!(intern(&mut ids, &scope("A"), 2), Some(0), "case-insensitive, and still answered");
    }

    #[test]
    fn too_many_scopes_have_no_ids() {
        let wide = (0..=MAX_SCOPES).map(|i| format!("hot-test.s{i}")).collect::<Vec<_>>().join(" ");
        assert!(ids(&wide).is_none());
        assert!(ScopeIds::of_request(&ScopeSet::parse(&wide).unwrap()).is_none());
    }
}
