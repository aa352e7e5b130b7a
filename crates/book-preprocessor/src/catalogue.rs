//! Every figure the book can cite: fresh criterion results first, the
//! committed baseline for ids that have no fresh result.

use crate::clock;
use crate::criterion::{self, FreshResult};
use crate::paths;
use crate::provenance::{self, Machine, Origin, Provenance};
use crate::results::{Measurement, ResultsFile};
use anyhow::{Context, Result};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A measurement together with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The figure itself.
    pub measurement: Measurement,
    /// Fresh run or committed baseline.
    pub origin: Origin,
    /// Machine, date and commit.
    pub provenance: Provenance,
}

/// The recorded provenance of a criterion directory and when it was written.
#[derive(Clone, Debug)]
pub struct RecordedProvenance {
    /// What `record-provenance` wrote.
    pub provenance: Provenance,
    /// The file's modification time.
    pub written: SystemTime,
}

/// Fresh and baseline figures by id, plus where they were looked for.
#[derive(Debug)]
pub struct Catalogue {
    fresh: BTreeMap<String, Figure>,
    baseline: Option<BTreeMap<String, Figure>>,
    criterion_dir: PathBuf,
    baseline_path: PathBuf,
    /// Where runs' results files were read from, if they were.
    results_dirs: Option<(PathBuf, PathBuf)>,
}

impl Catalogue {
    /// Reads the criterion directory, its recorded provenance and the
    /// baseline file (which may be absent; a malformed one is an error).
    /// Messages name both relative to `root`, the book root.
    pub fn load(
        criterion_dir: &Path,
        baseline_file: &Path,
        root: &Path,
        machine: &Machine,
    ) -> Result<Catalogue> {
        let fresh = criterion::read_all(criterion_dir)?;
        let recorded = read_recorded(criterion_dir)?;
        let baseline = if baseline_file.exists() {
            Some(ResultsFile::read(baseline_file)?)
        } else {
            None
        };
        Ok(Catalogue::new(
            fresh_figures(fresh, recorded.as_ref(), machine),
            baseline,
            PathBuf::from(paths::shown(criterion_dir, root)),
            PathBuf::from(paths::shown(baseline_file, root)),
        ))
    }

    /// A catalogue from figures already read; the paths are only shown in messages.
    pub fn new(
        fresh: Vec<Figure>,
        baseline: Option<ResultsFile>,
        criterion_dir: PathBuf,
        baseline_path: PathBuf,
    ) -> Catalogue {
        let baseline = baseline.map(|file| {
            file.results
                .into_iter()
                .map(|measurement| {
                    let figure = Figure {
                        measurement,
                        origin: Origin::Baseline,
                        provenance: file.provenance.clone(),
                    };
                    (figure.measurement.id.clone(), figure)
                })
                .collect()
        });
        Catalogue {
            fresh: fresh
                .into_iter()
                .map(|figure| (figure.measurement.id.clone(), figure))
                .collect(),
            baseline,
            criterion_dir,
            baseline_path,
            results_dirs: None,
        }
    }

    /// Adds the results files a run wrote with `book_results::record` (every
    /// `*.json` in `fresh_dir`, fresh) and their committed copies (every
    /// `*.json` in `baseline_dir`, baseline). Either directory may be absent.
    /// An id measured twice among the fresh figures is an error: the book
    /// could not say which one it shows.
    /// Messages name the directories relative to `root`, the book root.
    pub fn with_result_files(
        mut self,
        fresh_dir: &Path,
        baseline_dir: &Path,
        root: &Path,
    ) -> Result<Catalogue> {
        self.results_dirs = Some((
            PathBuf::from(paths::shown(fresh_dir, root)),
            PathBuf::from(paths::shown(baseline_dir, root)),
        ));
        for file in read_results_dir(fresh_dir)? {
            for figure in figures_of(file, Origin::Fresh) {
                let id = figure.measurement.id.clone();
                if self.fresh.insert(id.clone(), figure).is_some() {
                    anyhow::bail!(
                        "result `{id}` is measured twice among the fresh results \
                         (criterion and {}): rename one",
                        fresh_dir.display()
                    );
                }
            }
        }
        let committed = read_results_dir(baseline_dir)?;
        if !committed.is_empty() {
            let baseline = self.baseline.get_or_insert_with(BTreeMap::new);
            for file in committed {
                for figure in figures_of(file, Origin::Baseline) {
                    baseline.insert(figure.measurement.id.clone(), figure);
                }
            }
        }
        Ok(self)
    }

    /// The figure for `id`: fresh if criterion has it, else from the baseline.
    pub fn figure(&self, id: &str) -> Result<&Figure, String> {
        self.fresh
            .get(id)
            .or_else(|| self.baseline.as_ref()?.get(id))
            .ok_or_else(|| {
                let group = id.rsplit_once('/').map_or(id, |(group, _)| group);
                let mut message =
                    format!("no result for `{id}`: {}", self.where_looked());
                let known = self.ids_in(group);
                if !known.is_empty() {
                    let shown: Vec<_> =
                        known.iter().take(8).map(|id| format!("`{id}`")).collect();
                    message.push_str(&format!(
                        "; group `{group}` has {}",
                        shown.join(", ")
                    ));
                }
                message
            })
    }

    /// Every figure whose id starts with `GROUP/`, each fresh when possible,
    /// in natural order (`2` before `10`).
    pub fn group(&self, group: &str) -> Result<Vec<&Figure>, String> {
        let ids = self.ids_in(group);
        if ids.is_empty() {
            return Err(format!(
                "no results in group `{group}`: {}",
                self.where_looked()
            ));
        }
        Ok(ids
            .iter()
            .map(|id| self.figure(id).expect("listed ids exist"))
            .collect())
    }

    fn ids_in(&self, group: &str) -> Vec<&str> {
        let baseline = self.baseline.iter().flat_map(|map| map.values());
        let mut ids: Vec<&str> = self
            .fresh
            .values()
            .chain(baseline)
            .filter(|figure| figure.measurement.in_group(group))
            .map(|figure| figure.measurement.id.as_str())
            .collect();
        ids.sort_by(|a, b| natural_cmp(a, b));
        ids.dedup();
        ids
    }

    fn where_looked(&self) -> String {
        let baseline = match &self.baseline {
            Some(map) => format!(
                "the baseline {} ({} results)",
                self.baseline_path.display(),
                map.len()
            ),
            None => format!(
                "the baseline {}, which does not exist",
                self.baseline_path.display()
            ),
        };
        let runs = match &self.results_dirs {
            Some((fresh, committed)) => format!(
                ", in the runs' results files under {} and their committed copies under {},",
                fresh.display(),
                committed.display()
            ),
            None => String::new(),
        };
        format!(
            "looked in the fresh criterion results under {} ({} results){runs} and in {baseline}",
            self.criterion_dir.display(),
            self.fresh.len()
        )
    }
}

pub use book_results::read_results_dir;

fn figures_of(file: ResultsFile, origin: Origin) -> impl Iterator<Item = Figure> {
    let provenance = file.provenance;
    file.results.into_iter().map(move |measurement| Figure {
        measurement,
        origin,
        provenance: provenance.clone(),
    })
}

fn read_recorded(criterion_dir: &Path) -> Result<Option<RecordedProvenance>> {
    let path = criterion_dir.join(provenance::FILE_NAME);
    if !path.is_file() {
        return Ok(None);
    }
    let provenance = Provenance::read(&path)?;
    let written = std::fs::metadata(&path)
        .and_then(|meta| meta.modified())
        .with_context(|| format!("reading the time of {}", path.display()))?;
    Ok(Some(RecordedProvenance {
        provenance,
        written,
    }))
}

/// Attaches provenance to fresh results. The recorded provenance describes
/// only results written before it; a benchmark re-run afterwards gets what
/// can be derived: this machine, the time its estimates were written and
/// commit `unknown`.
pub fn fresh_figures(
    fresh: Vec<FreshResult>,
    recorded: Option<&RecordedProvenance>,
    machine: &Machine,
) -> Vec<Figure> {
    fresh
        .into_iter()
        .map(|result| {
            let provenance = match recorded {
                Some(recorded) if result.modified <= recorded.written => {
                    recorded.provenance.clone()
                }
                _ => machine.provenance(
                    clock::rfc3339(result.modified),
                    "unknown".to_owned(),
                ),
            };
            Figure {
                measurement: result.measurement,
                origin: Origin::Fresh,
                provenance,
            }
        })
        .collect()
}

/// Orders ids segment by segment, comparing numeric segments as numbers so
/// that parameters sort as `2, 10, 100` rather than `10, 100, 2`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(p), Ok(q)) => p.total_cmp(&q).then_with(|| x.cmp(y)),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TempDir, example_provenance, write_criterion_result};
    use std::time::Duration;

    fn machine() -> Machine {
        Machine {
            cpu: "This CPU".into(),
            cores: 4,
        }
    }

    fn baseline_file(ids: &[(&str, f64)]) -> ResultsFile {
        ResultsFile {
            format: 1,
            provenance: example_provenance(),
            results: ids
                .iter()
                .map(|(id, value)| Measurement {
                    id: (*id).into(),
                    value: *value,
                    unit: "ns".into(),
                    lower: Some(value - 1.0),
                    upper: Some(value + 1.0),
                    confidence: None,
                    statistic: "slope".into(),
                    text: None,
                })
                .collect(),
        }
    }

    fn fresh(id: &str, value: f64) -> Figure {
        Figure {
            measurement: Measurement {
                id: id.into(),
                value,
                unit: "ns".into(),
                lower: None,
                upper: None,
                confidence: None,
                statistic: "mean".into(),
                text: None,
            },
            origin: Origin::Fresh,
            provenance: example_provenance(),
        }
    }

    fn catalogue(
        fresh_figures: Vec<Figure>,
        baseline: Option<ResultsFile>,
    ) -> Catalogue {
        Catalogue::new(
            fresh_figures,
            baseline,
            PathBuf::from("target/criterion"),
            PathBuf::from("book/benchmarks/baseline.json"),
        )
    }

    #[test]
    fn fresh_wins_and_baseline_fills_the_gaps() {
        let book = catalogue(
            vec![fresh("g/a", 10.0)],
            Some(baseline_file(&[("g/a", 99.0), ("g/b", 20.0)])),
        );
        let a = book.figure("g/a").unwrap();
        assert_eq!((a.measurement.value, a.origin), (10.0, Origin::Fresh));
        let b = book.figure("g/b").unwrap();
        assert_eq!((b.measurement.value, b.origin), (20.0, Origin::Baseline));
        assert_eq!(b.provenance, example_provenance());
    }

    #[test]
    fn unknown_id_says_where_it_looked() {
        let book = catalogue(vec![fresh("g/a", 10.0)], None);
        assert_eq!(
            book.figure("g/zz").unwrap_err(),
            "no result for `g/zz`: looked in the fresh criterion results under target/criterion (1 results) \
             and in the baseline book/benchmarks/baseline.json, which does not exist; group `g` has `g/a`"
        );
        let book = catalogue(vec![], Some(baseline_file(&[("h/x", 1.0)])));
        assert_eq!(
            book.figure("g/zz").unwrap_err(),
            "no result for `g/zz`: looked in the fresh criterion results under target/criterion (0 results) \
             and in the baseline book/benchmarks/baseline.json (1 results)"
        );
    }

    #[test]
    fn group_merges_sources_in_natural_order() {
        let book = catalogue(
            vec![fresh("g/batch/10", 1.0), fresh("gx/other", 1.0)],
            Some(baseline_file(&[
                ("g/batch/2", 2.0),
                ("g/batch/10", 3.0),
                ("g/batch/100", 4.0),
            ])),
        );
        let rows: Vec<_> = book
            .group("g")
            .unwrap()
            .iter()
            .map(|f| (f.measurement.id.as_str(), f.origin))
            .collect();
        assert_eq!(
            rows,
            [
                ("g/batch/2", Origin::Baseline),
                ("g/batch/10", Origin::Fresh),
                ("g/batch/100", Origin::Baseline),
            ]
        );
        assert!(
            book.group("nothing")
                .unwrap_err()
                .starts_with("no results in group `nothing`: looked in")
        );
    }

    #[test]
    fn fresh_provenance_is_recorded_or_derived() {
        let dir = TempDir::new("catalogue-provenance");
        write_criterion_result(
            dir.path(),
            "g/old",
            ("g", Some("old"), None),
            (5.0, 4.0, 6.0),
            None,
        );
        let mut results = criterion::read_all(dir.path()).unwrap();
        let old = results.remove(0);
        let mut newer = old.clone();
        newer.measurement.id = "g/new".into();
        newer.modified = old.modified + Duration::from_secs(3600);
        let recorded = RecordedProvenance {
            provenance: example_provenance(),
            written: old.modified + Duration::from_secs(1),
        };
        let figures = fresh_figures(
            vec![old.clone(), newer.clone()],
            Some(&recorded),
            &machine(),
        );
        assert_eq!(figures[0].provenance, example_provenance());
        assert_eq!(figures[1].provenance.cpu, "This CPU");
        assert_eq!(figures[1].provenance.cores, 4);
        assert_eq!(figures[1].provenance.commit, "unknown");
        assert_eq!(figures[1].provenance.date, clock::rfc3339(newer.modified));

        let unrecorded = fresh_figures(vec![old.clone()], None, &machine());
        assert_eq!(unrecorded[0].provenance.date, clock::rfc3339(old.modified));
        assert_eq!(unrecorded[0].origin, Origin::Fresh);
    }

    #[test]
    fn result_files_are_fresh_and_their_copies_are_baseline() {
        let dir = TempDir::new("catalogue-results");
        let fresh_dir = dir.path().join("book-results");
        let committed_dir = dir.path().join("committed");
        book_results::record::write_group(
            &fresh_dir,
            "ch08",
            vec![Measurement::count("ch08/bytes", 512.0, "bytes").with_text("t")],
            dir.path(),
        )
        .unwrap();
        book_results::record::write_group(
            &committed_dir,
            "ch08",
            vec![
                Measurement::count("ch08/bytes", 500.0, "bytes"),
                Measurement::count("ch08/old_only", 1.0, "spans"),
            ],
            dir.path(),
        )
        .unwrap();
        let book = Catalogue::new(Vec::new(), None, PathBuf::new(), PathBuf::new())
            .with_result_files(&fresh_dir, &committed_dir, dir.path())
            .unwrap();
        let bytes = book.figure("ch08/bytes").unwrap();
        assert_eq!(
            (bytes.measurement.value, bytes.origin),
            (512.0, Origin::Fresh)
        );
        assert_eq!(bytes.measurement.text.as_deref(), Some("t"));
        let old = book.figure("ch08/old_only").unwrap();
        assert_eq!((old.measurement.value, old.origin), (1.0, Origin::Baseline));

        // The same id from criterion and from a results file is ambiguous.
        let fresh = vec![Figure {
            measurement: Measurement::count("ch08/bytes", 1.0, "ns"),
            origin: Origin::Fresh,
            provenance: example_provenance(),
        }];
        let error = Catalogue::new(fresh, None, PathBuf::new(), PathBuf::new())
            .with_result_files(&fresh_dir, &dir.path().join("absent"), dir.path())
            .unwrap_err();
        assert!(error.to_string().contains("measured twice"), "{error}");
    }

    #[test]
    fn load_reads_criterion_provenance_and_baseline() {
        let dir = TempDir::new("catalogue-load");
        let criterion_dir = dir.path().join("criterion");
        write_criterion_result(
            &criterion_dir,
            "g/f",
            ("g", Some("f"), None),
            (5.0, 4.0, 6.0),
            Some((4.5, 4.25, 4.75)),
        );
        let baseline_path = dir.path().join("baseline.json");
        std::fs::write(
            &baseline_path,
            baseline_file(&[("g/f", 1.0), ("g/only_baseline", 7.0)])
                .to_pretty_json(),
        )
        .unwrap();
        let book =
            Catalogue::load(&criterion_dir, &baseline_path, dir.path(), &machine())
                .unwrap();
        assert_eq!(book.figure("g/f").unwrap().measurement.value, 4.5);
        assert_eq!(
            book.figure("g/only_baseline").unwrap().origin,
            Origin::Baseline
        );
        assert_eq!(
            book.figure("g/zz").unwrap_err(),
            "no result for `g/zz`: looked in the fresh criterion results under criterion (1 results) \
             and in the baseline baseline.json (2 results); group `g` has `g/f`, `g/only_baseline`"
        );

        std::fs::write(&baseline_path, "{}").unwrap();
        let error =
            Catalogue::load(&criterion_dir, &baseline_path, dir.path(), &machine())
                .unwrap_err();
        assert!(
            format!("{error:#}").contains("invalid results file"),
            "{error:#}"
        );
    }

    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        let mut ids = vec!["g/f/100", "g/f/2", "g/f/10", "g/e", "g/f/x"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["g/e", "g/f/2", "g/f/10", "g/f/100", "g/f/x"]);
    }
}
