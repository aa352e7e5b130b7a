//! The project's one results format.
//!
//! Criterion timings, and later model-check state counts or load-test
//! figures, are all stored as a [`ResultsFile`]: one provenance for the run
//! and a list of [`Measurement`]s. `book/benchmarks/baseline.json` is such a
//! file. Unknown fields are rejected so that a typo in a hand-edited file
//! (`"lowr"`) fails `check-baseline` instead of silently dropping a bound.

use crate::provenance::Provenance;
use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The only version of the format so far.
pub const FORMAT_VERSION: u32 = 1;

/// A set of measurements taken together, with where and when they were taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsFile {
    /// Format version, [`FORMAT_VERSION`].
    pub format: u32,
    /// Where and when the measurements were taken.
    pub provenance: Provenance,
    /// The measurements, sorted by id when this crate writes them.
    pub results: Vec<Measurement>,
}

/// One measured figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// `GROUP/NAME[/PARAM]`, the id a chapter refers to.
    pub id: String,
    /// The point estimate, in `unit`.
    pub value: f64,
    /// `ns`, `µs`, `ms`, `s` for times; any other text (`states`,
    /// `req/s`) for values that are not times.
    pub unit: String,
    /// Lower bound of the confidence interval, in `unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// Upper bound of the confidence interval, in `unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// Confidence level of `lower`..`upper`, e.g. `0.95`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Which statistic `value` is: `slope`, `mean`, `count`, ...
    pub statistic: String,
    /// A text that goes with the figure: a counterexample, a table of cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Nanoseconds in one `unit`, if it is a time unit.
pub fn unit_nanos(unit: &str) -> Option<f64> {
    match unit {
        "ns" => Some(1.0),
        "µs" | "μs" | "us" => Some(1e3),
        "ms" => Some(1e6),
        "s" => Some(1e9),
        _ => None,
    }
}

impl Measurement {
    /// A measurement that is not a timing: a count, a size, a rate.
    /// `unit` is free text (`bytes`, `states`, `spans`, `req/s`).
    pub fn count(
        id: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
    ) -> Measurement {
        Measurement {
            id: id.into(),
            value,
            unit: unit.into(),
            lower: None,
            upper: None,
            confidence: None,
            statistic: "count".to_owned(),
            text: None,
        }
    }

    /// Attaches a text (a counterexample trace, a table of cases) that a
    /// chapter shows with `{{#result-text ID}}`.
    pub fn with_text(mut self, text: impl Into<String>) -> Measurement {
        self.text = Some(text.into());
        self
    }

    /// Sets the statistic (`count` by default for [`Measurement::count`]),
    /// e.g. `mean`, `p99`, `max`.
    pub fn with_statistic(mut self, statistic: impl Into<String>) -> Measurement {
        self.statistic = statistic.into();
        self
    }

    /// Whether `unit` is a time unit (`ns`, `µs`, `ms`, `s`).
    pub fn is_time(&self) -> bool {
        unit_nanos(&self.unit).is_some()
    }

    /// `value` in nanoseconds, if this is a time.
    pub fn nanos(&self) -> Option<f64> {
        self.to_nanos(self.value)
    }

    /// The confidence interval in nanoseconds, if this is a time with both bounds.
    pub fn interval_nanos(&self) -> Option<(f64, f64)> {
        Some((self.to_nanos(self.lower?)?, self.to_nanos(self.upper?)?))
    }

    fn to_nanos(&self, value: f64) -> Option<f64> {
        // For `ns` this multiplies by exactly 1.0, so a criterion figure
        // reaches the page bit for bit.
        Some(value * unit_nanos(&self.unit)?)
    }

    /// The part of the id after `GROUP/`, shown as a table row label.
    pub fn label_in(&self, group: &str) -> &str {
        self.id
            .strip_prefix(group)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(&self.id)
    }

    /// Whether this measurement belongs to `group` (its id starts with `GROUP/`).
    pub fn in_group(&self, group: &str) -> bool {
        self.id.len() > group.len() + 1
            && self.id.starts_with(group)
            && self.id.as_bytes()[group.len()] == b'/'
    }

    fn validate(&self) -> Result<()> {
        ensure!(!self.id.trim().is_empty(), "a result has an empty id");
        let id = &self.id;
        ensure!(
            id.split('/').count() >= 2 && id.split('/').all(|part| !part.is_empty()),
            "result `{id}`: the id must look like GROUP/NAME[/PARAM]"
        );
        ensure!(self.value.is_finite(), "result `{id}`: value is not finite");
        ensure!(!self.unit.trim().is_empty(), "result `{id}`: unit is empty");
        ensure!(
            !self.statistic.trim().is_empty(),
            "result `{id}`: statistic is empty"
        );
        match (self.lower, self.upper) {
            (Some(lower), Some(upper)) => {
                ensure!(
                    lower.is_finite() && upper.is_finite(),
                    "result `{id}`: a bound is not finite"
                );
                ensure!(
                    lower <= self.value && self.value <= upper,
                    "result `{id}`: value {} is outside its interval {lower}..{upper}",
                    self.value
                );
            }
            (None, None) => {}
            _ => bail!("result `{id}`: give both `lower` and `upper`, or neither"),
        }
        if let Some(level) = self.confidence {
            ensure!(
                level > 0.0 && level < 1.0,
                "result `{id}`: confidence {level} is not between 0 and 1"
            );
            ensure!(
                self.lower.is_some(),
                "result `{id}`: confidence given without an interval"
            );
        }
        Ok(())
    }
}

impl ResultsFile {
    /// Parses and validates a results file's text.
    pub fn parse(text: &str) -> Result<ResultsFile> {
        let file: ResultsFile = serde_json::from_str(text)?;
        file.validate()?;
        Ok(file)
    }

    /// Reads and validates a results file.
    pub fn read(path: &Path) -> Result<ResultsFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?;
        ResultsFile::parse(&text)
            .with_context(|| format!("invalid results file {}", path.display()))
    }

    /// Checks everything serde cannot: version, sane values, unique ids.
    pub fn validate(&self) -> Result<()> {
        ensure!(
            self.format == FORMAT_VERSION,
            "unsupported format {} (this preprocessor reads format {FORMAT_VERSION})",
            self.format
        );
        self.provenance.validate()?;
        let mut seen = BTreeSet::new();
        for result in &self.results {
            result.validate()?;
            ensure!(
                seen.insert(result.id.as_str()),
                "result `{}` appears twice",
                result.id
            );
        }
        Ok(())
    }

    /// Pretty JSON with a trailing newline, results sorted by id, so that a
    /// regenerated file diffs cleanly against the committed one.
    pub fn to_pretty_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.results.sort_by(|a, b| a.id.cmp(&b.id));
        let mut text = serde_json::to_string_pretty(&sorted)
            .expect("a results file always serialises");
        text.push('\n');
        text
    }
}

/// Every results file directly in `dir`, in name order; none if `dir` does not exist.
pub fn read_results_dir(dir: &Path) -> Result<Vec<ResultsFile>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    paths.retain(|path| {
        path.extension().is_some_and(|ext| ext == "json")
            && !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
    });
    paths.sort();
    paths.iter().map(|path| ResultsFile::read(path)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{ "format": 1,
      "provenance": {"cpu": "Example CPU", "cores": 2, "date": "2026-11-25T22:00:00Z", "commit": "abc1234", "note": "n"},
      "results": [ {"id": "ch01_span/noop_tracer", "value": 31.2, "unit": "ns", "lower": 30.9, "upper": 31.5, "statistic": "slope"} ] }"#;

    fn example() -> ResultsFile {
        ResultsFile::parse(EXAMPLE).unwrap()
    }

    #[test]
    fn parses_the_documented_shape() {
        let file = example();
        assert_eq!(file.provenance.cpu, "Example CPU");
        assert_eq!(file.provenance.note.as_deref(), Some("n"));
        let result = &file.results[0];
        assert_eq!(result.id, "ch01_span/noop_tracer");
        assert_eq!(result.value, 31.2);
        assert_eq!(result.interval_nanos(), Some((30.9, 31.5)));
        assert_eq!(result.confidence, None);
    }

    #[test]
    fn converts_time_units_to_nanoseconds() {
        let mut result = example().results.remove(0);
        result.unit = "µs".into();
        assert_eq!(result.nanos(), Some(31_200.0));
        result.unit = "states".into();
        assert_eq!(result.nanos(), None);
    }

    #[test]
    fn group_membership_needs_a_slash() {
        let result = example().results.remove(0);
        assert!(result.in_group("ch01_span"));
        assert!(!result.in_group("ch01"));
        assert!(!result.in_group("ch01_span/noop_tracer"));
        assert_eq!(result.label_in("ch01_span"), "noop_tracer");
    }

    #[test]
    fn rejects_bad_files_with_a_reason() {
        let cases = [
            (
                EXAMPLE.replace("\"format\": 1", "\"format\": 2"),
                "format 2",
            ),
            (
                EXAMPLE.replace("\"lower\"", "\"lowr\""),
                "unknown field `lowr`",
            ),
            (EXAMPLE.replace("31.5", "31.0"), "outside its interval"),
            (
                EXAMPLE.replace(", \"upper\": 31.5", ""),
                "both `lower` and `upper`",
            ),
            (
                EXAMPLE.replace("ch01_span/noop_tracer", "noop"),
                "GROUP/NAME",
            ),
            (EXAMPLE.replace("\"cores\": 2", "\"cores\": 0"), "cores"),
            (
                EXAMPLE.replace("2026-11-25T22:00:00Z", "yesterday"),
                "RFC 3339",
            ),
        ];
        for (text, expected) in cases {
            let error = format!("{:#}", ResultsFile::parse(&text).unwrap_err());
            assert!(
                error.contains(expected),
                "{error:?} should mention {expected:?}"
            );
        }
    }

    #[test]
    fn rejects_duplicate_ids() {
        let mut file = example();
        file.results.push(file.results[0].clone());
        let error = file.validate().unwrap_err().to_string();
        assert_eq!(error, "result `ch01_span/noop_tracer` appears twice");
    }

    #[test]
    fn pretty_json_is_sorted_and_ends_with_newline() {
        let mut file = example();
        let mut second = file.results[0].clone();
        second.id = "a_first/x".into();
        file.results.push(second);
        let text = file.to_pretty_json();
        assert!(text.ends_with("}\n"));
        assert!(
            text.find("a_first/x").unwrap()
                < text.find("ch01_span/noop_tracer").unwrap()
        );
        assert!(
            !text.contains("confidence"),
            "absent options are not written"
        );
    }
}
