//! Reading the results criterion 0.8 leaves on disk.
//!
//! Criterion writes, for each benchmark,
//! `<criterion dir>/<directory_name>/new/benchmark.json` (the id) and
//! `estimates.json` (the statistics, in nanoseconds per iteration) beside it.
//! The folder name is a sanitised, possibly truncated form of the id, so ids
//! are read from `benchmark.json` rather than reconstructed from paths.

use crate::results::Measurement;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One benchmark's latest (`new`) result.
#[derive(Clone, Debug, PartialEq)]
pub struct FreshResult {
    /// The figure, in nanoseconds.
    pub measurement: Measurement,
    /// When `estimates.json` was written, i.e. when the benchmark ran.
    pub modified: SystemTime,
    /// The `new` folder it was read from, for error messages.
    pub folder: PathBuf,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

/// The subset of criterion's `estimates.json` the book uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Estimates {
    /// Mean time per iteration.
    pub mean: Estimate,
    /// Slope of the linear regression of time against iterations; criterion
    /// writes `null` (or, in older files, nothing) in flat sampling mode.
    #[serde(default)]
    pub slope: Option<Estimate>,
}

/// A point estimate and its bootstrap confidence interval.
#[derive(Clone, Debug, Deserialize)]
pub struct Estimate {
    /// The estimate, in nanoseconds.
    pub point_estimate: f64,
    /// Its confidence interval.
    pub confidence_interval: ConfidenceInterval,
}

/// Bounds of a confidence interval, in nanoseconds.
#[derive(Clone, Debug, Deserialize)]
pub struct ConfidenceInterval {
    /// E.g. `0.95`.
    pub confidence_level: f64,
    /// Lower bound.
    pub lower_bound: f64,
    /// Upper bound.
    pub upper_bound: f64,
}

impl Estimates {
    /// The statistic the book reports: the slope when criterion computed one
    /// (it is the less noisy estimator, and what criterion itself reports as
    /// "time"), else the mean.
    pub fn reported(&self) -> (&'static str, &Estimate) {
        match &self.slope {
            Some(slope) => ("slope", slope),
            None => ("mean", &self.mean),
        }
    }

    /// The reported statistic as a [`Measurement`] with id `id`.
    pub fn measurement(&self, id: &str) -> Measurement {
        let (statistic, estimate) = self.reported();
        let interval = &estimate.confidence_interval;
        Measurement {
            id: id.to_owned(),
            value: estimate.point_estimate,
            unit: "ns".to_owned(),
            lower: Some(interval.lower_bound),
            upper: Some(interval.upper_bound),
            confidence: Some(interval.confidence_level),
            statistic: statistic.to_owned(),
            text: None,
        }
    }
}

/// Where criterion writes: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `<book root>/target/criterion`. Relative values are taken from the book
/// root, which is where both mdBook and `cargo bench` of the root package run.
pub fn criterion_dir(
    book_root: &Path,
    env: impl Fn(&str) -> Option<OsString>,
) -> PathBuf {
    let set = |name: &str| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let dir = set("CRITERION_HOME")
        .or_else(|| set("CARGO_TARGET_DIR").map(|target| target.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target").join("criterion"));
    book_root.join(dir)
}

/// Every `new` result under `dir`, sorted by id. A missing directory means no
/// benchmark has run yet, which is not an error.
pub fn read_all(dir: &Path) -> Result<Vec<FreshResult>> {
    let mut found = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut found)?;
    }
    found.sort_by(|a, b| {
        (a.measurement.id.as_str(), b.modified)
            .cmp(&(b.measurement.id.as_str(), a.modified))
    });
    // Two folders can hold the same id (a renamed checkout, a case-insensitive
    // file system); the newest run is the one that describes the code.
    found.dedup_by(|later, kept| later.measurement.id == kept.measurement.id);
    Ok(found)
}

fn collect(dir: &Path, found: &mut Vec<FreshResult>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        // Symbolic links are not followed, so a link loop cannot hang a build.
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            found.push(read_one(&path)?);
        } else {
            collect(&path, found)?;
        }
    }
    Ok(())
}

/// Reads the result in one `new` folder.
pub fn read_one(folder: &Path) -> Result<FreshResult> {
    let benchmark_path = folder.join("benchmark.json");
    let benchmark: BenchmarkJson = read_json(&benchmark_path)?;
    let estimates_path = folder.join("estimates.json");
    let estimates: Estimates = read_json(&estimates_path)?;
    let modified = std::fs::metadata(&estimates_path)
        .and_then(|meta| meta.modified())
        .with_context(|| {
            format!("reading the time of {}", estimates_path.display())
        })?;
    Ok(FreshResult {
        measurement: estimates.measurement(&benchmark.full_id),
        modified,
        folder: folder.to_owned(),
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, write_criterion_result};

    #[test]
    fn slope_is_reported_when_present_else_mean() {
        let dir = TempDir::new("criterion-choice");
        write_criterion_result(
            dir.path(),
            "g/with_slope",
            ("g", Some("with_slope"), None),
            (200.0, 190.0, 210.0),
            Some((181.934_567_8, 180.1, 185.2)),
        );
        write_criterion_result(
            dir.path(),
            "g/flat",
            ("g", Some("flat"), None),
            (42.5, 41.0, 44.0),
            None,
        );
        let results = read_all(dir.path()).unwrap();
        let by_id = |id: &str| {
            &results
                .iter()
                .find(|r| r.measurement.id == id)
                .unwrap()
                .measurement
        };
        let slope = by_id("g/with_slope");
        assert_eq!(slope.statistic, "slope");
        assert_eq!(slope.value, 181.934_567_8);
        assert_eq!((slope.lower, slope.upper), (Some(180.1), Some(185.2)));
        assert_eq!(slope.confidence, Some(0.95));
        assert_eq!(slope.unit, "ns");
        let flat = by_id("g/flat");
        assert_eq!(flat.statistic, "mean");
        assert_eq!(flat.value, 42.5);
        assert_eq!((flat.lower, flat.upper), (Some(41.0), Some(44.0)));
    }

    #[test]
    fn missing_slope_key_means_mean() {
        let estimates: Estimates = serde_json::from_str(
            r#"{"mean": {"point_estimate": 3.0, "confidence_interval": {"confidence_level": 0.9, "lower_bound": 2.0, "upper_bound": 4.0}}}"#,
        )
        .unwrap();
        assert_eq!(estimates.reported().0, "mean");
        assert_eq!(estimates.measurement("a/b").confidence, Some(0.9));
    }

    #[test]
    fn ids_come_from_benchmark_json_not_folder_names() {
        let dir = TempDir::new("criterion-ids");
        // Criterion turns `/` and `:` in names into `_` and may truncate.
        write_criterion_result(
            dir.path(),
            "batch_export/size_16_/1024",
            ("batch_export", Some("size:16?"), Some("1024")),
            (10.0, 9.0, 11.0),
            None,
        );
        // A saved criterion baseline beside `new` is not a fresh result.
        let saved = dir.path().join("batch_export/size_16_/1024/main");
        std::fs::create_dir_all(&saved).unwrap();
        std::fs::copy(
            dir.path()
                .join("batch_export/size_16_/1024/new/benchmark.json"),
            saved.join("benchmark.json"),
        )
        .unwrap();
        let results = read_all(dir.path()).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].measurement.id, "batch_export/size:16?/1024");
        assert!(results[0].folder.ends_with("1024/new"));
    }

    #[test]
    fn a_missing_directory_has_no_results() {
        let dir = TempDir::new("criterion-none");
        assert!(read_all(&dir.path().join("absent")).unwrap().is_empty());
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = TempDir::new("criterion-corrupt");
        dir.write("g/f/new/benchmark.json", r#"{"full_id": "g/f"}"#);
        dir.write("g/f/new/estimates.json", "{");
        let error = format!("{:#}", read_all(dir.path()).unwrap_err());
        assert!(
            error.contains("parsing ") && error.contains("estimates.json"),
            "{error}"
        );
    }

    #[test]
    fn criterion_dir_follows_criterion_precedence() {
        let root = Path::new("/book");
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        assert_eq!(
            criterion_dir(
                root,
                env(&[("CRITERION_HOME", "/c"), ("CARGO_TARGET_DIR", "/t")])
            ),
            PathBuf::from("/c")
        );
        assert_eq!(
            criterion_dir(root, env(&[("CARGO_TARGET_DIR", "/t")])),
            PathBuf::from("/t/criterion")
        );
        assert_eq!(
            criterion_dir(root, env(&[("CARGO_TARGET_DIR", "rel")])),
            PathBuf::from("/book/rel/criterion")
        );
        assert_eq!(
            criterion_dir(root, env(&[("CRITERION_HOME", "")])),
            PathBuf::from("/book/target/criterion")
        );
    }
}
