//! The committed baseline: figures the book falls back to when a build has
//! not run the benchmarks itself.

use crate::clock;
use crate::criterion::{self, FreshResult};
use crate::provenance::{self, Machine, Provenance};
use crate::results::{FORMAT_VERSION, ResultsFile};
use anyhow::{Context, Result, bail, ensure};
use std::path::Path;

/// Where the baseline lives, relative to the book root.
pub const DEFAULT_PATH: &str = "book/benchmarks/baseline.json";

/// Where the committed copies of the runs' results files live, relative to
/// the book root: one file per group, as `book_results::record` wrote it.
pub const RESULTS_PATH: &str = "book/benchmarks/results";

/// Copies every results file in `from` (what the runs wrote) into `to`,
/// replacing files of the same group and leaving other groups alone.
/// Returns how many files were copied. Each file is validated first, and
/// nothing is copied if one was recorded on a tree with uncommitted changes:
/// a committed figure must name the code that produced it.
pub fn copy_result_files(from: &Path, to: &Path) -> Result<usize> {
    let files = crate::catalogue::read_results_dir(from)?;
    if files.is_empty() {
        return Ok(0);
    }
    let dirty: Vec<String> = files
        .iter()
        .filter(|f| !f.provenance.is_clean())
        .map(|f| {
            let group = f.results.first().map_or("?", |m| m.id.as_str());
            format!("{group} (commit {})", f.provenance.commit)
        })
        .collect();
    ensure!(
        dirty.is_empty(),
        "not copied: recorded on a tree with uncommitted changes or outside git, \
         so no commit names the code that produced them: {}. Commit, run again, \
         then `cargo xtask baseline`.",
        dirty.join(", ")
    );
    std::fs::create_dir_all(to)
        .with_context(|| format!("creating {}", to.display()))?;
    for file in &files {
        let group = file
            .results
            .first()
            .and_then(|m| m.id.split_once('/'))
            .map(|(group, _)| group.to_owned())
            .context("a results file without results")?;
        let path = to.join(format!("{group}.json"));
        std::fs::write(&path, file.to_pretty_json())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.len())
}

/// A baseline of every result in `fresh`, under `provenance`.
pub fn from_fresh(fresh: Vec<FreshResult>, provenance: Provenance) -> ResultsFile {
    let mut results: Vec<_> = fresh.into_iter().map(|r| r.measurement).collect();
    results.sort_by(|a, b| a.id.cmp(&b.id));
    ResultsFile {
        format: FORMAT_VERSION,
        provenance,
        results,
    }
}

/// Reads every fresh result under `criterion_dir` and writes them to `out`
/// as a baseline. The provenance is the recorded one when there is one;
/// otherwise it is derived as for fresh figures (this machine, the newest
/// result's time, commit `unknown`). Returns what it wrote.
pub fn write_from_criterion(
    criterion_dir: &Path,
    out: &Path,
    note: Option<String>,
    machine: &Machine,
) -> Result<ResultsFile> {
    let fresh = criterion::read_all(criterion_dir)?;
    if fresh.is_empty() {
        bail!(
            "no criterion results under {}: run the benchmarks first (`cargo bench`), \
             or point --criterion-dir at where they were written",
            criterion_dir.display()
        );
    }
    let recorded = criterion_dir.join(provenance::FILE_NAME);
    let mut provenance = if recorded.is_file() {
        let written = std::fs::metadata(&recorded)?.modified()?;
        let stale: Vec<_> = fresh
            .iter()
            .filter(|r| r.modified > written)
            .map(|r| r.measurement.id.as_str())
            .collect();
        if !stale.is_empty() {
            eprintln!(
                "warning: {} result(s) were written after {} and may not match its commit: {}",
                stale.len(),
                recorded.display(),
                stale.join(", ")
            );
        }
        Provenance::read(&recorded)?
    } else {
        let newest = fresh.iter().map(|r| r.modified).max().expect("not empty");
        machine.provenance(clock::rfc3339(newest), "unknown".to_owned())
    };
    if note.is_some() {
        provenance.note = note;
    }
    let file = from_fresh(fresh, provenance);
    file.validate()
        .context("the criterion results do not make a valid baseline")?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(out, file.to_pretty_json())
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::provenance::Origin;
    use crate::render;
    use crate::testutil::{TempDir, example_provenance, write_criterion_result};

    fn machine() -> Machine {
        Machine {
            cpu: "Bench CPU".into(),
            cores: 8,
        }
    }

    fn criterion_tree(dir: &Path) {
        write_criterion_result(
            dir,
            "g/b",
            ("g", Some("b"), None),
            (20.0, 19.0, 21.0),
            None,
        );
        write_criterion_result(
            dir,
            "g/a/16",
            ("g", Some("a"), Some("16")),
            (9.0, 8.0, 10.0),
            Some((8.123_456_789, 8.0, 8.3)),
        );
    }

    #[test]
    fn round_trip_keeps_every_figure() {
        let dir = TempDir::new("baseline-round-trip");
        let criterion_dir = dir.path().join("criterion");
        criterion_tree(&criterion_dir);
        let out = dir.path().join("book/benchmarks/baseline.json");
        let written = write_from_criterion(
            &criterion_dir,
            &out,
            Some("round trip".into()),
            &machine(),
        )
        .unwrap();

        let read = ResultsFile::read(&out).unwrap();
        assert_eq!(read, written);
        let ids: Vec<_> = read.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["g/a/16", "g/b"], "sorted by id");
        assert_eq!(read.results[0].value, 8.123_456_789);
        assert_eq!(read.results[0].statistic, "slope");
        assert_eq!(read.results[1].statistic, "mean");
        assert_eq!(read.provenance.cpu, "Bench CPU");
        assert_eq!(read.provenance.commit, "unknown");
        assert_eq!(read.provenance.note.as_deref(), Some("round trip"));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.ends_with("}\n") && text.contains("\n  \"results\": ["));

        // The page shows the same figure from the baseline as from criterion.
        let fresh = Catalogue::load(
            &criterion_dir,
            &dir.path().join("none.json"),
            dir.path(),
            &machine(),
        )
        .unwrap();
        let from_baseline =
            Catalogue::load(&dir.path().join("empty"), &out, dir.path(), &machine())
                .unwrap();
        for id in ["g/a/16", "g/b"] {
            let f = fresh.figure(id).unwrap();
            let b = from_baseline.figure(id).unwrap();
            assert_eq!(b.origin, Origin::Baseline);
            assert_eq!(f.measurement, b.measurement);
            assert_eq!(render::shown_value(f), render::shown_value(b));
        }
    }

    #[test]
    fn uses_the_recorded_provenance() {
        let dir = TempDir::new("baseline-recorded");
        criterion_tree(dir.path());
        let recorded = serde_json::to_string(&example_provenance()).unwrap();
        std::fs::write(dir.path().join(provenance::FILE_NAME), recorded).unwrap();
        let out = dir.path().join("baseline.json");
        let file = write_from_criterion(dir.path(), &out, None, &machine()).unwrap();
        assert_eq!(file.provenance, example_provenance());
    }

    #[test]
    fn copies_results_of_a_clean_commit_only() {
        use book_results::{Measurement, ResultsFile};
        let file = |commit: &str| ResultsFile {
            format: 1,
            provenance: Provenance {
                commit: commit.into(),
                ..example_provenance()
            },
            results: vec![Measurement::count("grp/n", 3.0, "spans")],
        };
        let (from, to) = (TempDir::new("copy-from"), TempDir::new("copy-to"));
        let write = |f: ResultsFile| {
            std::fs::write(from.path().join("grp.json"), f.to_pretty_json()).unwrap()
        };
        write(file("abc1234"));
        assert_eq!(copy_result_files(from.path(), to.path()).unwrap(), 1);
        for bad in ["abc1234-dirty", "unknown"] {
            write(file(bad));
            let e = copy_result_files(from.path(), to.path()).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
        let kept = std::fs::read_to_string(to.path().join("grp.json")).unwrap();
        assert!(kept.contains("\"abc1234\""), "{kept}");
    }

    #[test]
    fn refuses_to_write_an_empty_baseline() {
        let dir = TempDir::new("baseline-empty");
        let out = dir.path().join("baseline.json");
        let error = write_from_criterion(dir.path(), &out, None, &machine())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("no criterion results under "), "{error}");
        assert!(!out.exists());
    }
}
