//! `Params::parse`: the query strings and form bodies of the callback and the sign-in routes.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{config, tricky_string};
use crate::web::params::{Params, ParamsError};

/// Parameters as a client would send them: distinct names, any values (empty ones included).
fn parameters() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(tricky_string(12), tricky_string(24), 0..8)
}

fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// Every byte of `value` as `%XX`: a spelling no ordinary client uses, but one a proxy decodes all the same.
fn percent_encode_all(value: &str) -> String {
    value.bytes().map(|b| format!("%{b:02X}")).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_parse_or_are_refused_without_panicking(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Params::parse(&input);
    }

    #[test]
    fn encoded_parameters_parse_back_to_the_same_values(params in parameters()) {
        let encoded = encode(params.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        let parsed = Params::parse(encoded.as_bytes()).unwrap();
        for (name, value) in &params {
            // An empty value counts as absent: `code=` must not pass for a code.
            let expected = Some(value.as_str()).filter(|value| !value.is_empty());
            prop_assert_eq!(parsed.get(name), expected, "{:?}", encoded);
        }
    }

    #[test]
    fn a_parameter_sent_twice_is_refused_wherever_it_appears(
        params in parameters().prop_filter("one parameter at least", |params| !params.is_empty()),
        pick in any::<proptest::sample::Index>(),
        at in any::<proptest::sample::Index>(),
        second in tricky_string(24),
    ) {
        let mut pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let name = pairs[pick.index(pairs.len())].0;
        pairs.insert(at.index(pairs.len() + 1), (name, &second));
        prop_assert_eq!(
            Params::parse(encode(pairs).as_bytes()).unwrap_err(),
            ParamsError::Duplicate(name.to_owned())
        );
    }

    #[test]
    fn a_name_spelled_two_ways_is_still_a_duplicate(
        name in tricky_string(12),
        a in tricky_string(8),
        b in tricky_string(8),
    ) {
        // `state=x&%73tate=y`: two spellings, one parameter once decoded.
        let first = encode([(name.as_str(), a.as_str())]);
        let input = format!("{first}&{}={}", percent_encode_all(&name), percent_encode_all(&b));
        prop_assert_eq!(Params::parse(input.as_bytes()).unwrap_err(), ParamsError::Duplicate(name));
    }
}
