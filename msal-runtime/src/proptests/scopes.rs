//! `Scope::new` and `ScopeSet::parse`: scopes from configuration, from `#[requires_scopes]`, from the
//! provider's token responses and from bearer tokens (RFC 6749 §3.3).

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};

use proptest::prelude::*;

use super::{config, tricky_string};
use crate::scope::set::{Scope, ScopeError, ScopeSet};

/// RFC 6749 §3.3, written out separately from the code under test: `%x21 / %x23-5B / %x5D-7E`.
fn rfc6749_scope_char(c: char) -> bool {
    c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c)
}

/// A valid scope, from a small alphabet so that case-insensitive duplicates are common.
fn scope_token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[aAbB.]{1,3}",
        1 => "(api://|https://)?[a-zA-Z0-9./_-]{1,16}",
        1 => "[!#-\\[\\]-~]{1,12}",
    ]
}

/// The same scope in another case mix.
fn recase(value: &str, flips: &[bool]) -> String {
    value
        .chars()
        .zip(flips.iter().chain(std::iter::repeat(&false)))
        .map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_scope_is_accepted_exactly_when_rfc_6749_allows_every_character(value in tricky_string(16)) {
        match Scope::new(&value) {
            Ok(scope) => {
                prop_assert!(!value.is_empty() && value.chars().all(rfc6749_scope_char), "{:?}", value);
                prop_assert_eq!(scope.as_str(), value.as_str());
            }
            Err(ScopeError::Empty) => prop_assert!(value.is_empty()),
            Err(ScopeError::InvalidCharacter { scope, found }) => {
                prop_assert_eq!(scope, value.clone());
                prop_assert_eq!(value.chars().find(|&c| !rfc6749_scope_char(c)), Some(found));
            }
        }
    }

    #[test]
    fn a_scope_string_parses_exactly_when_each_word_is_a_scope(value in tricky_string(48)) {
        let words: Vec<&str> = value.split(' ').filter(|word| !word.is_empty()).collect();
        match ScopeSet::parse(&value) {
            Ok(set) => {
                prop_assert!(words.iter().all(|word| word.chars().all(rfc6749_scope_char)), "{:?}", value);
                let distinct: BTreeSet<String> = words.iter().map(|word| word.to_ascii_lowercase()).collect();
                prop_assert_eq!(set.len(), distinct.len());
            }
            Err(_) => prop_assert!(words.iter().any(|word| !word.chars().all(rfc6749_scope_char)), "{:?}", value),
        }
    }

    #[test]
    fn a_normalised_scope_string_parses_back_to_the_same_set(words in proptest::collection::vec(scope_token(), 0..10)) {
        let set = ScopeSet::from_strs(words.iter().map(String::as_str)).unwrap();
        let string = set.to_scope_string();
        let parsed = ScopeSet::parse(&string).unwrap();
        prop_assert_eq!(&parsed, &set);
        // Spelling too, not only case-insensitive equality: the string is a fixed point.
        prop_assert_eq!(parsed.to_scope_string(), string);
    }

    #[test]
    fn a_set_is_sorted_without_case_insensitive_duplicates(words in proptest::collection::vec(scope_token(), 0..10)) {
        let set = ScopeSet::from_strs(words.iter().map(String::as_str)).unwrap();
        let lowered: Vec<String> = set.iter().map(|scope| scope.as_str().to_ascii_lowercase()).collect();
        prop_assert!(lowered.windows(2).all(|pair| pair[0] < pair[1]), "{:?}", set);
        let expected: BTreeSet<String> = words.iter().map(|word| word.to_ascii_lowercase()).collect();
        prop_assert_eq!(lowered, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn order_case_and_extra_spaces_do_not_change_a_set(
        words in proptest::collection::vec(scope_token(), 0..10),
        flips in proptest::collection::vec(any::<bool>(), 32),
        spaces in proptest::collection::vec(1..4usize, 10),
    ) {
        let set = ScopeSet::from_strs(words.iter().map(String::as_str)).unwrap();
        let mut respelled: Vec<String> = words.iter().map(|word| recase(word, &flips)).collect();
        respelled.reverse();
        let joined = respelled
            .iter()
            .zip(spaces.iter().cycle())
            .map(|(word, spaces)| format!("{word}{}", " ".repeat(*spaces)))
            .collect::<String>();
        let parsed = ScopeSet::parse(&format!("  {joined}")).unwrap();
        prop_assert_eq!(&parsed, &set);
        // Equal sets hash alike, or a cache keyed by scopes would miss.
        let hasher = RandomState::new();
        prop_assert_eq!(hasher.hash_one(&parsed), hasher.hash_one(&set));
    }

    #[test]
    fn superset_agrees_with_case_insensitive_inclusion(
        have in proptest::collection::vec(scope_token(), 0..8),
        want in proptest::collection::vec(scope_token(), 0..4),
    ) {
        let have_set = ScopeSet::from_strs(have.iter().map(String::as_str)).unwrap();
        let want_set = ScopeSet::from_strs(want.iter().map(String::as_str)).unwrap();
        let lowered: BTreeSet<String> = have.iter().map(|s| s.to_ascii_lowercase()).collect();
        let expected = want.iter().all(|scope| lowered.contains(&scope.to_ascii_lowercase()));
        prop_assert_eq!(have_set.is_superset_of(&want_set), expected);
        prop_assert!(have_set.union(&want_set).is_superset_of(&want_set));
        prop_assert!(have_set.union(&want_set).is_superset_of(&have_set));
    }
}
