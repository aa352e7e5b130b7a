//! The time axis: round tick steps and durations written in ns, µs, ms or s.
//!
//! A reader compares bars by the scale above them, so the ticks fall on
//! round numbers (1, 2 or 5 times a power of ten nanoseconds) and every
//! label uses the unit that keeps its number short.

/// About this many ticks are drawn across a trace's window.
const TARGET_TICKS: u64 = 6;

/// The tick times of a window of `length` ns, from 0, as nanoseconds
/// since the window's start. Empty for an empty window.
pub fn ticks(length: u64) -> Vec<u64> {
    if length == 0 {
        return Vec::new();
    }
    let step = step_for(length);
    (0..=length / step).map(|i| i * step).collect()
}

/// The smallest round step (1, 2, 5 × 10^k ns) giving at most
/// [`TARGET_TICKS`] intervals over `length`.
fn step_for(length: u64) -> u64 {
    let mut power: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            let step = power.saturating_mul(m);
            if length / step <= TARGET_TICKS {
                return step;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// `ns` in the largest unit that keeps the number at least 1, with at most
/// three decimals and no trailing zeros: `0`, `750 ns`, `1.5 µs`, `250 ms`, `2 s`.
pub fn duration(ns: u64) -> String {
    if ns == 0 {
        return "0".into();
    }
    let (divisor, unit) = match ns {
        0..1_000 => (1, "ns"),
        1_000..1_000_000 => (1_000, "µs"),
        1_000_000..1_000_000_000 => (1_000_000, "ms"),
        _ => (1_000_000_000, "s"),
    };
    let value = format!("{:.3}", ns as f64 / divisor as f64);
    let value = value.trim_end_matches('0').trim_end_matches('.');
    format!("{value} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_round_steps() {
        assert_eq!(ticks(0), Vec::<u64>::new());
        assert_eq!(ticks(1), [0, 1]);
        assert_eq!(
            ticks(250_000_000),
            [0, 50, 100, 150, 200, 250].map(|t| t * 1_000_000)
        );
        assert_eq!(ticks(7_000), [0, 2_000, 4_000, 6_000]);
        assert!(ticks(u64::MAX).len() <= 7);
    }

    #[test]
    fn durations_use_the_shortest_unit() {
        assert_eq!(duration(0), "0");
        assert_eq!(duration(750), "750 ns");
        assert_eq!(duration(1_500), "1.5 µs");
        assert_eq!(duration(250_000_000), "250 ms");
        assert_eq!(duration(1_234_567), "1.235 ms");
        assert_eq!(duration(2_000_000_000), "2 s");
    }
}
