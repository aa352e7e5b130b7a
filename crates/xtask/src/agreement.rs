//! Part V's first goal: the same configuration, measured in two benchmark
//! groups, gives the same figure within 10 %. `cargo xtask bench` prints
//! the verdict for each pair after criterion has run; two groups that
//! disagree mean one of them measures something the other does not.

use std::path::Path;

use anyhow::Result;

/// The largest ratio between the two figures of a pair that still counts
/// as agreeing.
const TOLERANCE: f64 = 1.10;

/// Pairs of benchmarks of one configuration: a recording SDK provider with
/// its batch processor and a discarding exporter, span started and ended.
pub const PAIRS: [(&str, &str); 1] =
    [("ch01_span_cost/sampled_batch", "ch12_span_cost/sdk_batch")];

/// The verdict on one pair, from their times in nanoseconds.
pub fn verdict(a: f64, b: f64) -> (f64, &'static str) {
    let ratio = a.max(b) / a.min(b);
    (ratio, if ratio <= TOLERANCE { "met" } else { "MISSED" })
}

/// Prints `met` or `MISSED` for every pair found in criterion's results.
pub fn print(criterion_dir: &Path) -> Result<()> {
    let fresh = book_results::criterion::read_all(criterion_dir)?;
    let nanos = |id: &str| {
        fresh
            .iter()
            .find(|r| r.measurement.id == id)
            .and_then(|r| r.measurement.nanos())
    };
    for (a, b) in PAIRS {
        match (nanos(a), nanos(b)) {
            (Some(x), Some(y)) => {
                let (ratio, word) = verdict(x, y);
                println!(
                    "benches agree within 10 %: {word}: {a} {x:.0} ns, {b} {y:.0} ns \
                     (ratio {ratio:.2})"
                );
            }
            _ => println!("benches agree: {a} or {b} was not run"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_symmetric_and_bounded() {
        assert_eq!(verdict(340.0, 348.0).1, "met");
        assert_eq!(verdict(348.0, 340.0).1, "met");
        // The disagreement issue 14 found: 418 ns against 247 ns.
        assert_eq!(verdict(418.0, 247.0).1, "MISSED");
        assert_eq!(verdict(247.0, 418.0).1, "MISSED");
        // The edge: exactly 10 % apart still agrees.
        assert_eq!(verdict(100.0, 110.0).1, "met");
        assert_eq!(verdict(100.0, 110.5).1, "MISSED");
    }
}
