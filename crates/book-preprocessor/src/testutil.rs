//! Fixtures shared by the unit tests.

pub use book_results::testutil::{TempDir, example_provenance};
use std::path::Path;

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
    std::fs::write(folder.join("benchmark.json"), benchmark.to_string()).expect("benchmark.json");
    std::fs::write(folder.join("estimates.json"), estimates.to_string()).expect("estimates.json");
}
