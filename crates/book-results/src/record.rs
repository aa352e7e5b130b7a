//! Writing a run's measurements where the book preprocessor finds them.

use crate::clock;
use crate::provenance::{Machine, git_commit};
use crate::results::{FORMAT_VERSION, Measurement, ResultsFile};
use anyhow::{Context, Result, ensure};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Overrides where results files are written and read.
pub const RESULTS_DIR_VARIABLE: &str = "BOOK_RESULTS_DIR";

/// The repository root: this crate lives in `<root>/crates/book-results`.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Where results files live: `$BOOK_RESULTS_DIR`, else
/// `$CARGO_TARGET_DIR/book-results`, else `<root>/target/book-results`.
/// Relative values are taken from `root`, as for criterion's directory.
pub fn results_dir(root: &Path, env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |name: &str| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let dir = set(RESULTS_DIR_VARIABLE)
        .or_else(|| {
            set("CARGO_TARGET_DIR").map(|target| target.join("book-results"))
        })
        .unwrap_or_else(|| PathBuf::from("target").join("book-results"));
    root.join(dir)
}

/// Writes `results` as `<results dir>/<group>.json`, stamped with this
/// machine, the time now and the repository's commit, replacing what an
/// earlier run of the same group wrote. Every id must start with `group/`.
/// Returns the path written.
pub fn record(group: &str, results: Vec<Measurement>) -> Result<PathBuf> {
    let root = workspace_root();
    let dir = results_dir(&root, |name| std::env::var_os(name));
    write_group(&dir, group, results, &root)
}

/// [`record`] into an explicit directory, with the commit read at `repo`.
pub fn write_group(
    dir: &Path,
    group: &str,
    results: Vec<Measurement>,
    repo: &Path,
) -> Result<PathBuf> {
    ensure!(
        !group.is_empty() && !group.contains(['/', '\\', '.']),
        "results group {group:?} must be a plain name such as `ch08_encoding`"
    );
    ensure!(
        !results.is_empty(),
        "results group `{group}` has no results"
    );
    for result in &results {
        ensure!(
            result.in_group(group),
            "result `{}` is not in group `{group}`: its id must start with `{group}/`",
            result.id
        );
    }
    let file = ResultsFile {
        format: FORMAT_VERSION,
        provenance: Machine::detect().provenance(clock::now(), git_commit(repo)),
        results,
    };
    file.validate()
        .with_context(|| format!("results group `{group}`"))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{group}.json"));
    // Write then rename, so a reader never sees half a file.
    let partial = dir.join(format!(".{group}.json.partial"));
    std::fs::write(&partial, file.to_pretty_json())
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn writes_a_valid_file_named_after_the_group() {
        let dir = TempDir::new("record");
        let path = write_group(
            dir.path(),
            "ch08_encoding",
            vec![
                Measurement::count("ch08_encoding/json", 512.0, "bytes"),
                Measurement::count("ch08_encoding/trace", 3.0, "states")
                    .with_text("a -> b"),
            ],
            dir.path(),
        )
        .unwrap();
        assert_eq!(path, dir.path().join("ch08_encoding.json"));
        let file = ResultsFile::read(&path).unwrap();
        assert_eq!(file.results.len(), 2);
        assert_eq!(file.results[1].text.as_deref(), Some("a -> b"));
        assert_eq!(file.results[0].statistic, "count");
        assert_eq!(file.provenance.commit, "unknown", "not a repository");
    }

    #[test]
    fn rejects_ids_outside_the_group_and_bad_values() {
        let dir = TempDir::new("record-bad");
        let err = |group: &str, results: Vec<Measurement>| {
            format!(
                "{:#}",
                write_group(dir.path(), group, results, dir.path()).unwrap_err()
            )
        };
        assert!(
            err("g", vec![Measurement::count("other/x", 1.0, "b")])
                .contains("not in group")
        );
        assert!(
            err("g", vec![Measurement::count("g/x", f64::NAN, "b")])
                .contains("not finite")
        );
        assert!(
            err("../g", vec![Measurement::count("../g/x", 1.0, "b")])
                .contains("plain name")
        );
        assert!(err("g", vec![]).contains("no results"));
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn results_dir_follows_the_variables() {
        let root = Path::new("/repo");
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            results_dir(root, env(&[])),
            Path::new("/repo/target/book-results")
        );
        assert_eq!(
            results_dir(root, env(&[("CARGO_TARGET_DIR", "t")])),
            Path::new("/repo/t/book-results")
        );
        assert_eq!(
            results_dir(
                root,
                env(&[("CARGO_TARGET_DIR", "t"), (RESULTS_DIR_VARIABLE, "/r")])
            ),
            Path::new("/r")
        );
    }

    #[test]
    fn the_workspace_root_holds_the_book() {
        assert!(workspace_root().join("book.toml").is_file());
    }
}
