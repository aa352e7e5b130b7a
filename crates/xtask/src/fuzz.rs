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
pub const TARGETS: [(&str, &str, &str); 7] = [
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
];

/// The results group the runs are recorded in.
pub const GROUP: &str = "fuzz";

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

pub fn fuzz(root: &Path, seconds: Option<&str>) -> Result<()> {
    let seconds = match seconds {
        None => DEFAULT_SECONDS,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => bail!(
                "usage: cargo xtask fuzz [SECONDS]  (SECONDS is a positive whole number, not {s:?})"
            ),
        },
    };
    let bin = ensure_cargo_fuzz(root)?;
    let mut measurements = vec![Measurement::count(
        format!("{GROUP}/seconds_per_target"),
        seconds as f64,
        "seconds",
    )];
    let mut found = Vec::new();
    for (target, _, _) in TARGETS {
        let outcome = run::step(
            &format!("Fuzzing {target} for {seconds}s (new inputs go to fuzz/corpus/{target})"),
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
fn run_target(root: &Path, bin: &Path, target: &str, seconds: u64) -> Result<Outcome> {
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
    let findings: Vec<PathBuf> = files(&artifacts).difference(&before).cloned().collect();
    if !status.success() && findings.is_empty() {
        bail!("cargo fuzz run {target} exited with {status} and saved no input");
    }
    let executions =
        executions.with_context(|| format!("libFuzzer printed no execution count for {target}"))?;
    Ok(Outcome {
        executions,
        findings,
    })
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
    let mut tests: Vec<(&str, &str)> = TARGETS.iter().map(|&(_, p, t)| (p, t)).collect();
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
            executions_in("#2097152\tpulse  cov: 120 ft: 300 corp: 40/1Kb exec/s: 69905"),
            Some(2097152)
        );
        assert_eq!(
            executions_in("#4129812\tDONE   cov: 1 ft: 1 corp: 1/1b lim: 4 exec/s: 67 rss: 1Mb"),
            Some(4129812)
        );
        assert_eq!(executions_in("INFO: Seed: 42"), None);
        assert_eq!(executions_in("#x"), None);
    }

    #[test]
    fn every_target_has_a_source_file_and_a_replay_test() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (target, package, test) in TARGETS {
            let source = root.join("fuzz/fuzz_targets").join(format!("{target}.rs"));
            assert!(source.is_file(), "{} is missing", source.display());
            let dir = match package {
                "otlp-csp-telemetry" => "telemetry",
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
}
