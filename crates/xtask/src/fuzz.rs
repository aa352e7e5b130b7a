//! `cargo xtask fuzz [SECONDS]`: runs each fuzz target of `fuzz/` for a bounded
//! time with cargo-fuzz (libFuzzer), records how many inputs each one ran and
//! what it found (results group `fuzz`, for the book's "Reliability"
//! appendix), and the test stage that replays the saved corpus without it.
//!
//! cargo-fuzz passes nightly-only flags (`-Zsanitizer=address`); with the one
//! stable toolchain of this project it works when `RUSTC_BOOTSTRAP=1` is set,
//! which this command does for its own child processes only.

use anyhow::{Context, Result, bail};
use book_results::{Measurement, record};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::run;

/// The pinned cargo-fuzz, installed into `target/tools` on first use.
pub const CARGO_FUZZ: (&str, &str) = ("cargo-fuzz", "0.13.2");

/// The targets in `fuzz/fuzz_targets`, each with the test (package, test
/// file) that replays its saved inputs on stable Rust.
pub const TARGETS: [(&str, &str, &str); 9] = [
    (
        "traceparent",
        "otlp-csp-telemetry",
        "propagation_fuzz_corpus",
    ),
    (
        "tracestate",
        "otlp-csp-telemetry",
        "propagation_fuzz_corpus",
    ),
    ("baggage", "otlp-csp-telemetry", "propagation_fuzz_corpus"),
    ("otlp_receiver_body", "otlp-receiver", "fuzz_corpus"),
    ("service_request_body", "otlp-csp-services", "fuzz_corpus"),
    (
        "telemetry_config",
        "otlp-csp-telemetry",
        "config_fuzz_corpus",
    ),
    (
        "preprocessor_directives",
        "book-preprocessor",
        "fuzz_corpus",
    ),
    ("preprocessor_results", "book-preprocessor", "fuzz_corpus"),
    ("trace_capture", "trace-view", "fuzz_corpus"),
];

/// The results group the runs are recorded in.
pub const GROUP: &str = "fuzz";

/// The saved corpus of a target is cut to at most this many inputs ...
pub const CORPUS_MAX_FILES: usize = 200;
/// ... and this many bytes, so that the repository and the replay stay small.
pub const CORPUS_MAX_BYTES: u64 = 200 * 1024;

/// Seconds per target when none are given.
pub const DEFAULT_SECONDS: u64 = 60;

/// What one bounded run of a target did.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// Inputs executed (libFuzzer's count).
    executions: u64,
    /// Crash, leak, timeout or out-of-memory inputs it saved to `fuzz/artifacts/TARGET`.
    findings: Vec<PathBuf>,
}

/// `cargo xtask fuzz [SECONDS]`: each target for `seconds` (default
/// [`DEFAULT_SECONDS`]; clap has checked it is positive).
pub fn fuzz(root: &Path, seconds: Option<u64>) -> Result<()> {
    let seconds = seconds.unwrap_or(DEFAULT_SECONDS);
    let bin = ensure_cargo_fuzz(root)?;
    let mut measurements = vec![Measurement::count(
        format!("{GROUP}/seconds_per_target"),
        seconds as f64,
        "seconds",
    )];
    let mut found = Vec::new();
    for (target, _, _) in TARGETS {
        let outcome = run::step(
            &format!(
                "Fuzzing {target} for {seconds}s (new inputs go to fuzz/corpus/{target})"
            ),
            || run_target(root, &bin, target, seconds),
        )?;
        println!(
            "    {target}: {} inputs executed, {} finding(s)",
            outcome.executions,
            outcome.findings.len()
        );
        measurements.push(Measurement::count(
            format!("{GROUP}/{target}_execs"),
            outcome.executions as f64,
            "inputs",
        ));
        measurements.push(Measurement::count(
            format!("{GROUP}/{target}_findings"),
            outcome.findings.len() as f64,
            "findings",
        ));
        found.extend(outcome.findings);
        let kept = minimise(root, target)?;
        println!(
            "    {target}: corpus minimised to {} inputs, {} bytes, covering {} of {} edges",
            kept.files, kept.bytes, kept.edges, kept.all_edges
        );
    }
    let written = record(GROUP, measurements)?;
    println!("Recorded executions and findings in {}", written.display());
    if !found.is_empty() {
        bail!(
            "the fuzzers found {} failing input(s); each is now a regression test \
             (cargo xtask test, stage \"fuzz corpus\"): fix the owning crate\n{}",
            found.len(),
            found
                .iter()
                .map(|p| format!("  {}", p.display()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    println!(
        "No crash. Replay the corpus on stable with: cargo xtask test (stage \"fuzz corpus\")"
    );
    Ok(())
}

/// Runs one target for `seconds`, passing libFuzzer's output through and
/// reading its final statistics. A crash is not an error here: it is
/// counted, and its input is in `fuzz/artifacts/TARGET`.
fn run_target(
    root: &Path,
    bin: &Path,
    target: &str,
    seconds: u64,
) -> Result<Outcome> {
    let artifacts = root.join("fuzz/artifacts").join(target);
    let before = files(&artifacts);
    let mut child = Command::new(bin)
        .args(["fuzz", "run", target, "--fuzz-dir", "fuzz"])
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-max_len=4096")
        .arg("-print_final_stats=1")
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", bin.display()))?;
    let stderr = child.stderr.take().context("libFuzzer's stderr")?;
    let mut executions = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.context("reading libFuzzer's output")?;
        eprintln!("{line}");
        if let Some(n) = executions_in(&line) {
            executions = Some(n);
        }
    }
    let status = child.wait().context("waiting for cargo fuzz")?;
    let findings: Vec<PathBuf> =
        files(&artifacts).difference(&before).cloned().collect();
    if !status.success() && findings.is_empty() {
        bail!("cargo fuzz run {target} exited with {status} and saved no input");
    }
    let executions = executions.with_context(|| {
        format!("libFuzzer printed no execution count for {target}")
    })?;
    Ok(Outcome {
        executions,
        findings,
    })
}

/// What [`minimise`] kept.
#[derive(Debug, PartialEq, Eq)]
struct Kept {
    files: usize,
    bytes: u64,
    edges: usize,
    all_edges: usize,
}

/// Cuts `fuzz/corpus/TARGET` down to the inputs that add most coverage. The
/// target's binary (built by the run) measures the code edges each input
/// reaches (`-merge=1` with a control file, hit counts ignored); then, greedily,
/// inputs named `seed-*` (written by hand) are kept, followed by the input
/// adding most edges not yet covered, until nothing adds any or the limits
/// ([`CORPUS_MAX_FILES`], [`CORPUS_MAX_BYTES`]) are reached. The rest is
/// deleted.
fn minimise(root: &Path, target: &str) -> Result<Kept> {
    let corpus = root.join("fuzz/corpus").join(target);
    let work = root.join("fuzz/target/minimise").join(target);
    let _ = std::fs::remove_dir_all(&work);
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty)
        .with_context(|| format!("creating {}", empty.display()))?;
    let control = work.join("control");
    let bin = root
        .join("fuzz/target")
        .join(host_triple()?)
        .join("release")
        .join(target);
    let mut cmd = Command::new(&bin);
    cmd.arg("-merge=1")
        .arg("-use_counters=0")
        .arg(format!("-merge_control_file={}", control.display()))
        .arg(&empty)
        .arg(&corpus)
        .stderr(Stdio::null())
        .current_dir(root);
    run::command(cmd)?;
    let text = std::fs::read_to_string(&control)
        .with_context(|| format!("reading {}", control.display()))?;
    let inputs = coverage_of(&text)?;
    let mut sized = Vec::new();
    for (path, edges) in inputs {
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        let seed = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seed-"));
        sized.push(Input {
            path,
            bytes,
            edges,
            seed,
        });
    }
    let keep = greedy_cover(&sized, CORPUS_MAX_FILES, CORPUS_MAX_BYTES);
    let all: BTreeSet<&u64> = sized.iter().flat_map(|i| &i.edges).collect();
    let covered: BTreeSet<&u64> =
        keep.iter().flat_map(|&k| &sized[k].edges).collect();
    for (index, input) in sized.iter().enumerate() {
        if !keep.contains(&index) {
            std::fs::remove_file(&input.path)
                .with_context(|| format!("removing {}", input.path.display()))?;
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(Kept {
        files: keep.len(),
        bytes: keep.iter().map(|&k| sized[k].bytes).sum(),
        edges: covered.len(),
        all_edges: all.len(),
    })
}

/// One saved input, its size and the edges it reaches.
struct Input {
    path: PathBuf,
    bytes: u64,
    edges: BTreeSet<u64>,
    seed: bool,
}

/// The indices of the inputs to keep: the seeds, then greedily the one adding
/// most uncovered edges (the smaller on a tie) while within the limits.
fn greedy_cover(
    inputs: &[Input],
    max_files: usize,
    max_bytes: u64,
) -> BTreeSet<usize> {
    let mut keep: BTreeSet<usize> =
        (0..inputs.len()).filter(|&i| inputs[i].seed).collect();
    let mut covered: BTreeSet<u64> =
        keep.iter().flat_map(|&i| inputs[i].edges.clone()).collect();
    let mut bytes: u64 = keep.iter().map(|&i| inputs[i].bytes).sum();
    while keep.len() < max_files {
        let best = (0..inputs.len())
            .filter(|i| !keep.contains(i) && bytes + inputs[*i].bytes <= max_bytes)
            .map(|i| (inputs[i].edges.difference(&covered).count(), i))
            .filter(|&(gain, _)| gain > 0)
            .max_by_key(|&(gain, i)| (gain, std::cmp::Reverse(inputs[i].bytes)));
        let Some((_, i)) = best else { break };
        keep.insert(i);
        bytes += inputs[i].bytes;
        covered.extend(inputs[i].edges.iter().copied());
    }
    keep
}

/// Each input of a libFuzzer merge control file with the edges it covers.
/// The file is: the number of inputs, the number in the first directory, one
/// path per line, then per input `STARTED i size`, `FT i ...`, `COV i ...`.
fn coverage_of(control: &str) -> Result<Vec<(PathBuf, BTreeSet<u64>)>> {
    let mut lines = control.lines();
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .context("a merge control file starts with the number of inputs")?;
    lines.next();
    let mut inputs: Vec<(PathBuf, BTreeSet<u64>)> = lines
        .by_ref()
        .take(count)
        .map(|p| (PathBuf::from(p), BTreeSet::new()))
        .collect();
    for line in lines {
        let mut words = line.split_whitespace();
        if words.next() != Some("COV") {
            continue;
        }
        let index: usize = words
            .next()
            .and_then(|w| w.parse().ok())
            .context("a COV line names its input")?;
        let input = inputs
            .get_mut(index)
            .context("a COV line for an input the file does not list")?;
        input.1 = words.filter_map(|w| w.parse().ok()).collect();
    }
    Ok(inputs)
}

/// The target triple cargo-fuzz builds for (this machine's).
fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.arg("-vV");
    let out = run::output(cmd)?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .context("rustc -vV names no host")
}

/// The execution count in a line of libFuzzer's output: the final
/// `stat::number_of_executed_units: N`, or a status line `#N\tDONE ...`
/// (also `#N\tpulse`, `#N\tNEW`: the last one seen is the latest count).
fn executions_in(line: &str) -> Option<u64> {
    if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
        return rest.trim().parse().ok();
    }
    let rest = line.strip_prefix('#')?;
    let (count, _) = rest.split_once(char::is_whitespace)?;
    count.parse().ok()
}

/// The files in `dir` (none if it does not exist).
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

fn ensure_cargo_fuzz(root: &Path) -> Result<std::path::PathBuf> {
    let bin = root.join("target/tools/bin/cargo-fuzz");
    let (name, version) = CARGO_FUZZ;
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version));
    if !installed {
        run::step(
            &format!("Installing {name} {version} into target/tools"),
            || {
                run::cargo(&[
                    "install",
                    "--locked",
                    "--quiet",
                    "--root",
                    "target/tools",
                    name,
                    "--version",
                    version,
                ])
            },
        )?;
    }
    Ok(bin)
}

/// The test stage: every saved fuzz input, through the targets' checks, on
/// stable Rust (each crate's replay test, e.g.
/// `crates/telemetry/tests/propagation_fuzz_corpus.rs`).
pub fn replay_corpus() -> Result<()> {
    let mut tests: Vec<(&str, &str)> =
        TARGETS.iter().map(|&(_, p, t)| (p, t)).collect();
    tests.dedup();
    for (package, test) in tests {
        run::cargo(&["test", "--locked", "--quiet", "-p", package, "--test", test])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_execution_count_from_libfuzzer_output() {
        assert_eq!(
            executions_in("stat::number_of_executed_units: 123456"),
            Some(123456)
        );
        assert_eq!(
            executions_in(
                "#2097152\tpulse  cov: 120 ft: 300 corp: 40/1Kb exec/s: 69905"
            ),
            Some(2097152)
        );
        assert_eq!(
            executions_in(
                "#4129812\tDONE   cov: 1 ft: 1 corp: 1/1b lim: 4 exec/s: 67 rss: 1Mb"
            ),
            Some(4129812)
        );
        assert_eq!(executions_in("INFO: Seed: 42"), None);
        assert_eq!(executions_in("#x"), None);
    }

    fn input(name: &str, bytes: u64, edges: &[u64]) -> Input {
        Input {
            path: PathBuf::from(name),
            bytes,
            edges: edges.iter().copied().collect(),
            seed: name.starts_with("seed-"),
        }
    }

    #[test]
    fn the_cover_keeps_seeds_then_the_largest_gains_within_the_limits() {
        let inputs = [
            input("a", 10, &[1, 2]),
            input("b", 10, &[1, 2, 3, 4]),
            input("seed-c", 50, &[9]),
            input("d", 5, &[3, 4]),
            input("e", 1, &[5]),
            input("f", 1000, &[6, 7, 8]),
        ];
        let keep = greedy_cover(&inputs, 10, 100);
        assert_eq!(keep, BTreeSet::from([1, 2, 4]));
        assert_eq!(greedy_cover(&inputs, 2, 100), BTreeSet::from([1, 2]));
    }

    #[test]
    fn reads_a_merge_control_file() {
        let control = "2\n0\n/c/x\n/c/y\nSTARTED 0 3\nFT 0 1 2\nCOV 0 7 8\nSTARTED 1 4\nFT 1 3\nCOV 1 9\n";
        let inputs = coverage_of(control).unwrap();
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0].0, PathBuf::from("/c/x"));
        assert_eq!(inputs[0].1, BTreeSet::from([7, 8]));
        assert_eq!(inputs[1].1, BTreeSet::from([9]));
        assert!(coverage_of("x").is_err());
    }

    #[test]
    fn every_target_has_a_source_file_a_bin_entry_and_a_replay_test() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest =
            std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        for (target, package, test) in TARGETS {
            let source = root.join("fuzz/fuzz_targets").join(format!("{target}.rs"));
            assert!(source.is_file(), "{} is missing", source.display());
            let bin = format!("path = \"fuzz_targets/{target}.rs\"");
            assert!(
                manifest.contains(&bin),
                "fuzz/Cargo.toml has no [[bin]] {target}"
            );
            let dir = match package {
                "otlp-csp-telemetry" => "telemetry",
                "otlp-csp-services" => "services",
                other => other,
            };
            let replay = root
                .join("crates")
                .join(dir)
                .join("tests")
                .join(format!("{test}.rs"));
            assert!(replay.is_file(), "{} is missing", replay.display());
        }
    }

    #[test]
    fn every_source_file_is_a_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for source in files(&root.join("fuzz/fuzz_targets")) {
            let name = source.file_stem().unwrap().to_string_lossy();
            assert!(
                TARGETS.iter().any(|&(target, _, _)| target == name),
                "{} is not in TARGETS, so `cargo xtask fuzz` would never run it",
                source.display()
            );
        }
    }
}
