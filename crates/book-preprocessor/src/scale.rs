//! Turning a measured value into the short number a reader sees.
//!
//! # Rounding rule
//!
//! Every figure is shown with **three significant digits**. The digits are
//! taken from Rust's `{:.2e}` formatting of the exact `f64`, which rounds the
//! exact binary value to nearest and breaks exact ties to even (`998.5` →
//! `998`, `999.5` → `1000`). The unit is chosen *after* rounding, so a value
//! that rounds up to the next power of a thousand moves to the next unit
//! (`999.4 ns` → `999 ns` but `999.5 ns` → `1.00 µs`).
//!
//! Time units step by a thousand: below 1 000 ns (after rounding) the unit is
//! ns, then µs, ms and s. Values under 1 ns stay in ns (`0.312 ns`) and
//! values of 1 000 s or more stay in s (`1230 s`), because a reader compares
//! figures more easily than they decode `ps` or `ks`.
//!
//! Confidence-interval bounds are written in the unit of the point estimate
//! they belong to, each again with three significant digits, so
//! `998 ns (95 % CI 990–1010 ns)` rather than mixing units within one figure.

use std::fmt;

/// How many significant digits every figure is rounded to.
pub const SIGNIFICANT_DIGITS: usize = 3;

/// A unit of time, as used for criterion results (which are nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Nanoseconds.
    Ns,
    /// Microseconds.
    Us,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl TimeUnit {
    /// The symbol printed after a number.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Ns => "ns",
            TimeUnit::Us => "µs",
            TimeUnit::Ms => "ms",
            TimeUnit::S => "s",
        }
    }

    /// The power of ten of this unit expressed in nanoseconds.
    pub fn exponent(self) -> i32 {
        match self {
            TimeUnit::Ns => 0,
            TimeUnit::Us => 3,
            TimeUnit::Ms => 6,
            TimeUnit::S => 9,
        }
    }

    /// How many nanoseconds one of this unit is.
    pub fn nanos(self) -> f64 {
        10f64.powi(self.exponent())
    }

    /// Reads a unit name as written in a results file. Both the micro sign
    /// (U+00B5), the Greek mu (U+03BC) and plain `us` are accepted, because
    /// all three turn up in hand-written files.
    pub fn parse(unit: &str) -> Option<TimeUnit> {
        match unit {
            "ns" => Some(TimeUnit::Ns),
            "µs" | "μs" | "us" => Some(TimeUnit::Us),
            "ms" => Some(TimeUnit::Ms),
            "s" => Some(TimeUnit::S),
            _ => None,
        }
    }

    /// The unit a duration of `nanos` is shown in, chosen after rounding to
    /// [`SIGNIFICANT_DIGITS`] (see the module docs).
    pub fn for_nanos(nanos: f64) -> TimeUnit {
        match rounded_exponent(nanos) {
            ..=2 => TimeUnit::Ns,
            3..=5 => TimeUnit::Us,
            6..=8 => TimeUnit::Ms,
            _ => TimeUnit::S,
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Decimal exponent of `value` once rounded to three significant digits.
fn rounded_exponent(value: f64) -> i32 {
    if value == 0.0 || !value.is_finite() {
        return 0;
    }
    let (_, exponent) = scientific(value.abs());
    exponent
}

/// The three significant digits and the decimal exponent of the first one,
/// from Rust's correctly rounded scientific formatting.
fn scientific(value: f64) -> (String, i32) {
    let text = format!("{:.*e}", SIGNIFICANT_DIGITS - 1, value);
    let (mantissa, exponent) = text
        .split_once('e')
        .expect("`{:e}` formatting always has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent = exponent
        .parse()
        .expect("`{:e}` formatting writes an integer exponent");
    (digits, exponent)
}

/// `value / 10^unit_exponent` with three significant digits, as text.
///
/// The division is done on the decimal digits rather than in floating point
/// so that no extra rounding step can change a digit.
pub fn significant(value: f64, unit_exponent: i32) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let (digits, exponent) = scientific(value.abs());
    // `first` is the power of ten of the first significant digit in the target unit.
    let first = exponent - unit_exponent;
    let width = SIGNIFICANT_DIGITS as i32;
    let body = if first >= width - 1 {
        format!("{digits}{}", "0".repeat((first - (width - 1)) as usize))
    } else if first >= 0 {
        let (int, frac) = digits.split_at(first as usize + 1);
        format!("{int}.{frac}")
    } else {
        format!("0.{}{digits}", "0".repeat((-first - 1) as usize))
    };
    format!("{sign}{body}")
}

/// A duration in nanoseconds as number and unit, e.g. `(“182”, Ns)`.
pub fn time(nanos: f64) -> (String, TimeUnit) {
    let unit = TimeUnit::for_nanos(nanos);
    (significant(nanos, unit.exponent()), unit)
}

/// A duration in nanoseconds written in a given unit, e.g. a CI bound in the
/// unit of its point estimate.
pub fn time_in(nanos: f64, unit: TimeUnit) -> String {
    significant(nanos, unit.exponent())
}

/// A value whose unit is not a time (a count of states, requests per
/// second, ...). Whole numbers are printed in full because a count rounded
/// to three digits would be a different count; others get three significant
/// digits like every other figure.
pub fn plain(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        significant(value, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(nanos: f64) -> String {
        let (number, unit) = time(nanos);
        format!("{number} {unit}")
    }

    #[test]
    fn three_significant_digits_in_each_unit() {
        assert_eq!(shown(181.934_56), "182 ns");
        assert_eq!(shown(31.2), "31.2 ns");
        assert_eq!(shown(1.0), "1.00 ns");
        assert_eq!(shown(1_234.5), "1.23 µs");
        assert_eq!(shown(45_678.0), "45.7 µs");
        assert_eq!(shown(987_654.0), "988 µs");
        assert_eq!(shown(2_500_000.0), "2.50 ms");
        assert_eq!(shown(3.3e9), "3.30 s");
        assert_eq!(shown(1.234_5e12), "1230 s");
    }

    #[test]
    fn unit_is_chosen_after_rounding() {
        assert_eq!(shown(999.4), "999 ns");
        assert_eq!(shown(999.5), "1.00 µs");
        assert_eq!(shown(999_499.0), "999 µs");
        assert_eq!(shown(999_500.0), "1.00 ms");
        assert_eq!(shown(999_500_000.0), "1.00 s");
        assert_eq!(shown(999_499_999.0), "999 ms");
    }

    #[test]
    fn exact_ties_round_to_even() {
        assert_eq!(shown(998.5), "998 ns");
        assert_eq!(shown(997.5), "998 ns");
        assert_eq!(shown(0.3125), "0.312 ns");
        assert_eq!(shown(0.3135), "0.314 ns");
    }

    #[test]
    fn sub_nanosecond_values_stay_in_nanoseconds() {
        assert_eq!(shown(0.5), "0.500 ns");
        assert_eq!(shown(0.012_34), "0.0123 ns");
        assert_eq!(shown(0.0), "0 ns");
    }

    #[test]
    fn bounds_use_the_unit_of_the_estimate() {
        assert_eq!(time_in(990.0, TimeUnit::Ns), "990");
        assert_eq!(time_in(1_012.0, TimeUnit::Ns), "1010");
        assert_eq!(time_in(999.1, TimeUnit::Us), "0.999");
        assert_eq!(time_in(1_500.0, TimeUnit::Ms), "0.00150");
    }

    #[test]
    fn negative_values_keep_their_sign() {
        assert_eq!(significant(-181.9, 0), "-182");
    }

    #[test]
    fn unit_names_parse() {
        assert_eq!(TimeUnit::parse("µs"), Some(TimeUnit::Us));
        assert_eq!(TimeUnit::parse("μs"), Some(TimeUnit::Us));
        assert_eq!(TimeUnit::parse("us"), Some(TimeUnit::Us));
        assert_eq!(TimeUnit::parse("s"), Some(TimeUnit::S));
        assert_eq!(TimeUnit::parse("states"), None);
        assert_eq!(TimeUnit::Ms.nanos(), 1e6);
    }

    #[test]
    fn plain_values_keep_whole_counts() {
        assert_eq!(plain(12_345.0), "12345");
        assert_eq!(plain(0.0), "0");
        assert_eq!(plain(1_234.567), "1230");
        assert_eq!(plain(0.042_42), "0.0424");
    }
}
