//! `parse_retry_after`: the provider's `Retry-After`, delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::{config, tricky_string};
use crate::provider::http::parse_retry_after;

/// Seconds since the epoch up to the end of year 9999, the range of an HTTP-date.
const MAX_HTTP_DATE: u64 = 253_402_300_799;

fn instant() -> impl Strategy<Value = SystemTime> {
    (0..=MAX_HTTP_DATE).prop_map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_header_value_parses_or_is_ignored_without_panicking(value in tricky_string(40), now in instant()) {
        let _ = parse_retry_after(&value, now);
    }

    #[test]
    fn date_like_values_parse_or_are_ignored_without_panicking(
        value in "(Mon|Sun|Xyz), [0-9]{1,3} (Jan|Feb|Dec|Foo) [0-9]{1,5} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2} (GMT|UTC)",
        now in instant(),
    ) {
        let _ = parse_retry_after(&value, now);
    }

    #[test]
    fn delay_seconds_round_trip(
        seconds in any::<u64>(),
        pad_left in " {0,2}",
        pad_right in " {0,2}",
        now in instant(),
    ) {
        let value = format!("{pad_left}{seconds}{pad_right}");
        prop_assert_eq!(parse_retry_after(&value, now), Some(Duration::from_secs(seconds)));
    }

    #[test]
    fn an_http_date_is_the_time_left_until_it_and_never_negative(at in instant(), now in instant()) {
        let value = httpdate::fmt_http_date(at);
        let expected = at.duration_since(now).unwrap_or(Duration::ZERO);
        prop_assert_eq!(parse_retry_after(&value, now), Some(expected));
    }

    #[test]
    fn a_negative_or_fractional_delay_is_ignored(seconds in 1..u32::MAX, fraction in 0..1000u32) {
        let now = SystemTime::now();
        prop_assert_eq!(parse_retry_after(&format!("-{seconds}"), now), None);
        prop_assert_eq!(parse_retry_after(&format!("{seconds}.{fraction}"), now), None);
    }
}
