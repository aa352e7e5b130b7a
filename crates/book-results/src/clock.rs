//! UTC timestamps as RFC 3339 text, without a date-time dependency.
//!
//! Provenance only ever needs "this instant, in UTC, to the second", so the
//! civil-from-days algorithm (Howard Hinnant's) is enough.

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` as `YYYY-MM-DDTHH:MM:SSZ`. Instants before 1970 (a broken clock)
/// are written as the epoch rather than failing a build.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let days = (seconds / 86_400) as i64;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The current instant as RFC 3339 UTC text.
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// Year, month (1–12) and day (1–31) of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524
        - day_of_era / 146_096)
        / 365;
    let day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, so that the leap day is the last day of the year.
    let march_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * march_month + 2) / 5 + 1) as u32;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether `text` is an RFC 3339 date-time (`2026-11-25T22:00:00Z`,
/// optionally with fractional seconds or a numeric offset).
pub fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let fixed = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !fixed {
        return false;
    }
    let in_range = |value: Option<u32>, low: u32, high: u32| {
        value.is_some_and(|v| (low..=high).contains(&v))
    };
    let date_ok = digits(0..4).is_some()
        && in_range(digits(5..7), 1, 12)
        && in_range(digits(8..10), 1, 31)
        && in_range(digits(11..13), 0, 23)
        && in_range(digits(14..16), 0, 59)
        && in_range(digits(17..19), 0, 60);
    if !date_ok {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits_len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return false;
        }
        rest = &fraction[digits_len..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(seconds))
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_164_800 + 86_399), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_795_564_800 + 79_200), "2026-11-25T22:00:00Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn days_round_trip_over_four_centuries() {
        let mut expected = (1970, 1, 1);
        let month_length = |year: i64, month: u32| match month {
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), expected, "day {days}");
            let (year, month, day) = expected;
            expected = if day < month_length(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
    }

    #[test]
    fn recognises_rfc3339() {
        assert!(is_rfc3339("2026-11-25T22:00:00Z"));
        assert!(is_rfc3339("2026-11-25T22:00:00.123Z"));
        assert!(is_rfc3339("2026-11-25T22:00:00+01:00"));
        assert!(is_rfc3339(&now()));
        assert!(!is_rfc3339("2026-11-25"));
        assert!(!is_rfc3339("2026-13-25T22:00:00Z"));
        assert!(!is_rfc3339("2026-11-25 22:00:00Z"));
        assert!(!is_rfc3339("2026-11-25T22:00:00"));
        assert!(!is_rfc3339("2026-11-25T22:00:00.Z"));
    }
}
