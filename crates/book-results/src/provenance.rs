//! Where and when a figure was measured, so that a reader can judge it.

use crate::clock;
use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::process::Command;

/// The file `record-provenance` writes next to criterion's results.
pub const FILE_NAME: &str = "book-provenance.json";

/// The machine and source tree a set of measurements came from.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// CPU model name.
    pub cpu: String,
    /// Logical cores available to the measuring process.
    pub cores: u32,
    /// When, as RFC 3339 UTC.
    pub date: String,
    /// Short commit hash, `-dirty` when the tree had changes, or `unknown`.
    pub commit: String,
    /// Anything else a reader should know (load on the machine, settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether a figure was measured for this build or read from the committed baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Measured by a criterion run found in the criterion directory.
    Fresh,
    /// Read from `book/benchmarks/baseline.json`.
    Baseline,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Fresh => "fresh",
            Origin::Baseline => "baseline",
        })
    }
}

impl Provenance {
    /// Checks the fields a reader relies on.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.cpu.trim().is_empty(), "provenance: cpu is empty");
        ensure!(self.cores >= 1, "provenance: cores must be at least 1");
        ensure!(
            clock::is_rfc3339(&self.date),
            "provenance: date {:?} is not an RFC 3339 date-time",
            self.date
        );
        ensure!(
            !self.commit.trim().is_empty(),
            "provenance: commit is empty"
        );
        Ok(())
    }

    /// Recorded at a commit with no uncommitted changes.
    pub fn is_clean(&self) -> bool {
        self.commit != "unknown" && !self.commit.ends_with("-dirty")
    }

    /// One line for a tooltip or a caption:
    /// `fresh measurement · Example CPU · 2 cores · 2026-11-25T22:00:00Z · commit abc1234`;
    /// a commit recorded with uncommitted changes says so in words.
    pub fn describe(&self, origin: Origin) -> String {
        let what = match origin {
            Origin::Fresh => "fresh measurement",
            Origin::Baseline => "committed baseline",
        };
        let cores = if self.cores == 1 { "core" } else { "cores" };
        let commit = match self.commit.strip_suffix("-dirty") {
            Some(hash) => format!("{hash} with uncommitted changes"),
            None => self.commit.clone(),
        };
        let mut text = format!(
            "{what} · {} · {} {cores} · {} · commit {commit}",
            self.cpu, self.cores, self.date
        );
        if let Some(note) = &self.note {
            text.push_str(" · ");
            text.push_str(note);
        }
        text
    }

    /// Reads a provenance file such as [`FILE_NAME`].
    pub fn read(path: &Path) -> Result<Provenance> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let provenance: Provenance =
            serde_json::from_str(&text).with_context(|| {
                format!("invalid provenance file {}", path.display())
            })?;
        provenance.validate().with_context(|| {
            format!("invalid provenance file {}", path.display())
        })?;
        Ok(provenance)
    }
}

/// What can be learnt about the measuring machine from inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// CPU model name, or `unknown CPU`.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: u32,
}

impl Machine {
    /// This machine, from `/proc/cpuinfo` and the standard library.
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cores = std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1);
        Machine { cpu, cores }
    }

    /// A provenance for measurements from this machine at `date`, with `commit`.
    pub fn provenance(&self, date: String, commit: String) -> Provenance {
        Provenance {
            cpu: self.cpu.clone(),
            cores: self.cores,
            date,
            commit,
            note: None,
        }
    }
}

/// The first `model name` of a `/proc/cpuinfo` text, with runs of spaces
/// collapsed (some kernels pad the name).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name")
            .then(|| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|name| !name.is_empty())
    })
}

/// The short commit of the repository at `dir`, with `-dirty` if it has
/// uncommitted changes, or `unknown` outside a repository or without git.
pub fn git_commit(dir: &Path) -> String {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) if !hash.is_empty() => match git(&["status", "--porcelain"]) {
            Some(status) if status.is_empty() => hash,
            _ => format!("{hash}-dirty"),
        },
        _ => "unknown".to_owned(),
    }
}

/// Writes `FILE_NAME` into `criterion_dir` for this machine, now and the
/// commit of the current directory, and returns what it wrote.
pub fn record(criterion_dir: &Path, note: Option<String>) -> Result<Provenance> {
    let mut provenance =
        Machine::detect().provenance(clock::now(), git_commit(Path::new(".")));
    provenance.note = note;
    std::fs::create_dir_all(criterion_dir)
        .with_context(|| format!("creating {}", criterion_dir.display()))?;
    let path = criterion_dir.join(FILE_NAME);
    let mut text = serde_json::to_string_pretty(&provenance)?;
    text.push('\n');
    std::fs::write(&path, text)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(provenance)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::example_provenance as example;

    #[test]
    fn says_in_words_when_the_tree_had_changes() {
        let mut dirty = example();
        dirty.commit = "abc1234-dirty".into();
        assert!(!dirty.is_clean() && example().is_clean());
        assert!(
            dirty
                .describe(Origin::Fresh)
                .ends_with("commit abc1234 with uncommitted changes")
        );
    }

    #[test]
    fn describes_origin_machine_date_and_commit() {
        assert_eq!(
            example().describe(Origin::Fresh),
            "fresh measurement · Example CPU @ 2.40GHz · 2 cores · 2026-11-25T22:00:00Z · commit abc1234"
        );
        let mut single = example();
        single.cores = 1;
        single.note = Some("quiet machine".into());
        assert_eq!(
            single.describe(Origin::Baseline),
            "committed baseline · Example CPU @ 2.40GHz · 1 core · 2026-11-25T22:00:00Z · commit abc1234 · quiet machine"
        );
    }

    #[test]
    fn reads_cpu_model_from_cpuinfo() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R)  Xeon(R) CPU   @ 2.20GHz\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("processor\t: 0\nBogoMIPS\t: 50.00\n"), None);
    }

    #[test]
    fn detects_something_plausible() {
        let machine = Machine::detect();
        assert!(machine.cores >= 1);
        assert!(!machine.cpu.is_empty());
    }

    #[test]
    fn git_commit_names_the_head_and_marks_changes() {
        if std::env::var_os("GIT_DIR").is_some() {
            return; // inside a git hook every git command sees that repository
        }
        let dir = crate::testutil::TempDir::new("git");
        assert_eq!(git_commit(dir.path()), "unknown");

        let git = |args: &[&str]| {
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .map(|out| out.status.success())
                .unwrap_or(false)
        };
        if !git(&["init", "--quiet"]) {
            return; // no git on this machine: "unknown" above is all there is
        }
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        assert!(git(&["add", "a.txt"]));
        assert!(git(&["commit", "--quiet", "-m", "a"]));
        let clean = git_commit(dir.path());
        assert!(
            clean.len() >= 7 && clean.chars().all(|c| c.is_ascii_hexdigit()),
            "{clean}"
        );

        std::fs::write(dir.path().join("b.txt"), "b").unwrap();
        assert_eq!(git_commit(dir.path()), format!("{clean}-dirty"));
    }

    #[test]
    fn record_writes_a_readable_file() {
        let dir = crate::testutil::TempDir::new("record");
        let written = record(dir.path(), Some("test".into())).unwrap();
        let read = Provenance::read(&dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(read, written);
        assert_eq!(read.note.as_deref(), Some("test"));
        assert!(clock::is_rfc3339(&read.date));
    }
}
