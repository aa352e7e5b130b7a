//! Interleaved comparisons: several functions timed in turn, round after
//! round (A B C, B C A, C A B, …), so that each round's ratio compares runs
//! made a few milliseconds apart, under the same load and clock speed.
//!
//! Criterion measures one function after another; on a shared machine
//! whose speed drifts, two figures taken seconds apart can differ by more
//! than the code does. A ratio goal ("the pattern within 1.10 × the raw
//! version") is judged on the median of the per-round ratios instead, with
//! the smallest and largest round beside it. The timing loop lives with
//! the benchmarks (`benches/paired`); this module turns its rounds into
//! results, and is what the tests below check.

use anyhow::{Result, ensure};

use crate::Measurement;

/// The results group of a benchmark group's comparisons:
/// `paired_` + the criterion group's name.
pub fn group(bench_group: &str) -> String {
    format!("paired_{bench_group}")
}

/// The id of `arm`'s median ratio to `reference` (optionally each less
/// `floor`), for the criterion ids `GROUP/ARM` and `GROUP/REFERENCE`.
pub fn ratio_id(arm: &str, reference: &str, floor: Option<&str>) -> Option<String> {
    let (bench_group, arm) = arm.split_once('/')?;
    let (reference_group, reference) = reference.split_once('/')?;
    if bench_group != reference_group {
        return None;
    }
    let mut id = format!("{}/{arm}/over/{reference}", group(bench_group));
    if let Some(floor) = floor {
        let (floor_group, floor) = floor.split_once('/')?;
        if floor_group != bench_group {
            return None;
        }
        id.push_str(&format!("/above/{floor}"));
    }
    Some(id)
}

/// One comparison's rounds: `rounds[r][i]` is arm `i`'s time per
/// iteration in round `r`, in nanoseconds. Arm 0 is the reference every
/// ratio divides by; `floor`, if set, is the arm whose time is work every
/// arm must do, taken off both sides of a second ratio.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The criterion group the arms belong to, e.g. `ch05_patterns`.
    pub bench_group: String,
    pub arms: Vec<String>,
    pub floor: Option<usize>,
    pub rounds: Vec<Vec<f64>>,
}

/// The median of `values`, the lower middle one of an even count, so that
/// it is always one of the values measured. `values` must not be empty.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The value at quantile `q` (0 to 1) of `values`, the nearest rank at or
/// below it, so that it is one of the values measured.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).floor();
    sorted[rank as usize]
}

/// A median with the first and third quartiles beside it: with tens of
/// rounds, the smallest and largest are one descheduled chunk each, and
/// say little about the rest.
fn summary(id: String, values: &[f64], unit: &str) -> Measurement {
    let mut m =
        Measurement::count(id, median(values), unit).with_statistic(format!(
            "median of {} interleaved rounds, with the quartiles",
            values.len()
        ));
    m.lower = Some(quantile(values, 0.25));
    m.upper = Some(quantile(values, 0.75));
    m
}

impl Comparison {
    /// The results: every arm's median time per iteration, every other
    /// arm's median ratio to arm 0, and with a floor, the same ratio with
    /// the floor's time of the same round taken off both sides.
    pub fn measurements(&self) -> Result<Vec<Measurement>> {
        let n = self.arms.len();
        ensure!(n >= 2, "a comparison needs two arms or more");
        ensure!(!self.rounds.is_empty(), "a comparison needs rounds");
        ensure!(
            self.rounds
                .iter()
                .all(|r| r.len() == n && r.iter().all(|t| t.is_finite() && *t > 0.0)),
            "every round needs a positive time for each of the {n} arms"
        );
        ensure!(
            self.floor.is_none_or(|f| f > 0 && f < n),
            "the floor must be an arm other than the reference"
        );
        let group = group(&self.bench_group);
        let column = |i: usize| self.rounds.iter().map(move |r| r[i]);
        let reference = &self.arms[0];
        let mut out = Vec::new();
        for (i, arm) in self.arms.iter().enumerate() {
            let times: Vec<f64> = column(i).collect();
            out.push(summary(format!("{group}/{arm}"), &times, "ns"));
            if i == 0 || Some(i) == self.floor {
                continue;
            }
            let ratios: Vec<f64> =
                column(i).zip(column(0)).map(|(a, r)| a / r).collect();
            out.push(summary(
                format!("{group}/{arm}/over/{reference}"),
                &ratios,
                "×",
            ));
            if let Some(f) = self.floor {
                let floor_name = &self.arms[f];
                let above: Vec<f64> = self
                    .rounds
                    .iter()
                    .filter(|r| r[f] < r[i].min(r[0]))
                    .map(|r| (r[i] - r[f]) / (r[0] - r[f]))
                    .collect();
                ensure!(
                    !above.is_empty(),
                    "the floor `{floor_name}` was not below both `{arm}` and \
                     `{reference}` in any round"
                );
                out.push(summary(
                    format!("{group}/{arm}/over/{reference}/above/{floor_name}"),
                    &above,
                    "×",
                ));
            }
        }
        Ok(out)
    }
}

/// The 1-minute load average (`/proc/loadavg`): how much other work the
/// machine had while a run measured.
pub fn load_average() -> Result<f64> {
    let text = std::fs::read_to_string("/proc/loadavg")?;
    let first = text.split_whitespace().next().unwrap_or_default();
    first
        .parse()
        .map_err(|_| anyhow::anyhow!("bad /proc/loadavg: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(rounds: Vec<Vec<f64>>, floor: Option<usize>) -> Comparison {
        let arms = ["raw", "pattern", "floor"][..rounds[0].len()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        Comparison {
            bench_group: "g".into(),
            arms,
            floor,
            rounds,
        }
    }

    fn find<'a>(ms: &'a [Measurement], id: &str) -> &'a Measurement {
        ms.iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("{id} in {ms:?}"))
    }

    #[test]
    fn the_ratio_is_the_median_of_each_rounds_ratio() {
        // The machine slows down by half between rounds: criterion-style
        // figures taken far apart would disagree, each round's ratio does not.
        let rounds = vec![
            vec![100.0, 110.0],
            vec![200.0, 220.0],
            vec![100.0, 130.0],
            vec![150.0, 150.0],
            vec![300.0, 330.0],
        ];
        let ms = comparison(rounds, None).measurements().unwrap();
        let ratio = find(&ms, "paired_g/pattern/over/raw");
        assert!((ratio.value - 1.10).abs() < 1e-9, "{ratio:?}");
        // Ratios 1.0, 1.1, 1.1, 1.1, 1.3: quartiles at ranks 1 and 3.
        assert_eq!((ratio.lower, ratio.upper), (Some(1.1), Some(1.1)));
        assert!(
            ratio
                .statistic
                .starts_with("median of 5 interleaved rounds")
        );
        // The ratio of the medians would be 220 / 150 = 1.47: a planted
        // bug that divided medians would fail the line above.
        assert_eq!(find(&ms, "paired_g/raw").value, 150.0);
        assert_eq!(find(&ms, "paired_g/pattern").value, 150.0);
        // The reference has no ratio to itself.
        assert!(ms.iter().all(|m| m.id != "paired_g/raw/over/raw"));
    }

    #[test]
    fn a_floor_comes_off_both_sides_of_the_same_round() {
        let rounds =
            vec![vec![3500.0, 2850.0, 1500.0], vec![7000.0, 5700.0, 3000.0]];
        let ms = comparison(rounds, Some(2)).measurements().unwrap();
        let whole = find(&ms, "paired_g/pattern/over/raw");
        assert!((whole.value - 0.8143).abs() < 1e-3, "{whole:?}");
        let above = find(&ms, "paired_g/pattern/over/raw/above/floor");
        assert!((above.value - 0.675).abs() < 1e-9, "{above:?}");
        // The floor is not compared with the reference.
        assert!(ms.iter().all(|m| m.id != "paired_g/floor/over/raw"));
    }

    #[test]
    fn bad_rounds_are_errors_not_figures() {
        assert!(comparison(vec![vec![1.0]], None).measurements().is_err());
        assert!(
            comparison(vec![vec![1.0, 0.0]], None)
                .measurements()
                .is_err()
        );
        assert!(
            comparison(vec![vec![1.0, f64::NAN]], None)
                .measurements()
                .is_err()
        );
        // A floor above an arm in every round is a broken benchmark.
        let high = comparison(vec![vec![100.0, 90.0, 95.0]], Some(2));
        let err = high.measurements().unwrap_err().to_string();
        assert!(err.contains("not below"), "{err}");
        let mut ragged = comparison(vec![vec![1.0, 2.0]], None);
        ragged.rounds.push(vec![1.0]);
        assert!(ragged.measurements().is_err());
    }

    #[test]
    fn ratio_ids_name_both_arms_of_one_group() {
        assert_eq!(
            ratio_id("ch05_patterns/pool", "ch05_patterns/pool_raw", None)
                .as_deref(),
            Some("paired_ch05_patterns/pool/over/pool_raw")
        );
        assert_eq!(
            ratio_id("c/book", "c/sdk", Some("c/api_floor")).as_deref(),
            Some("paired_c/book/over/sdk/above/api_floor")
        );
        assert_eq!(ratio_id("a/x", "b/y", None), None);
        assert_eq!(ratio_id("a/x", "a/y", Some("b/z")), None);
    }

    #[test]
    fn medians_and_quartiles_are_values_measured() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.0);
        let nine: Vec<f64> = (1..=9).rev().map(f64::from).collect();
        assert_eq!(quantile(&nine, 0.25), 3.0);
        assert_eq!(quantile(&nine, 0.75), 7.0);
        assert_eq!(quantile(&nine, 0.0), 1.0);
        assert_eq!(quantile(&nine, 1.0), 9.0);
    }
}
