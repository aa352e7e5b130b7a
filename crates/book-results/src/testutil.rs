//! Fixtures for this crate's and the preprocessor's unit tests.

use crate::provenance::Provenance;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory under the system temp dir, unique per process and call,
/// removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "book-results-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover from a killed run with a recycled pid would leak old files in.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `relative`, creating parent directories.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("creating parents");
        std::fs::write(&path, text).expect("writing a fixture");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn example_provenance() -> Provenance {
    Provenance {
        cpu: "Example CPU @ 2.40GHz".into(),
        cores: 2,
        date: "2026-11-25T22:00:00Z".into(),
        commit: "abc1234".into(),
        note: None,
    }
}

/// Writes the two files criterion 0.8 leaves for one benchmark, the way it
/// lays them out: `<dir>/<directory_name>/new/{benchmark,estimates}.json`.
pub fn write_criterion_result(
    criterion_dir: &Path,
    directory_name: &str,
    (group, function, param): (&str, Option<&str>, Option<&str>),
    mean: (f64, f64, f64),
    slope: Option<(f64, f64, f64)>,
) {
    let full_id = [Some(group), function, param]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    let folder = criterion_dir.join(directory_name).join("new");
    std::fs::create_dir_all(&folder).expect("creating a criterion folder");
    let benchmark = serde_json::json!({
        "group_id": group,
        "function_id": function,
        "value_str": param,
        "throughput": null,
        "full_id": full_id,
        "directory_name": directory_name,
        "title": full_id,
    });
    let estimate = |(point, lower, upper): (f64, f64, f64)| {
        serde_json::json!({
            "confidence_interval": {"confidence_level": 0.95, "lower_bound": lower, "upper_bound": upper},
            "point_estimate": point,
            "standard_error": 0.5,
        })
    };
    let estimates = serde_json::json!({
        "mean": estimate(mean),
        "median": estimate(mean),
        "median_abs_dev": estimate((1.0, 0.5, 1.5)),
        "slope": slope.map(estimate),
        "std_dev": estimate((2.0, 1.5, 2.5)),
    });
    std::fs::write(folder.join("benchmark.json"), benchmark.to_string())
        .expect("benchmark.json");
    std::fs::write(folder.join("estimates.json"), estimates.to_string())
        .expect("estimates.json");
}
