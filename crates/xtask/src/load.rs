//! Chapter 21's load runs: the benchmark target untraced, traced at 1 % and
//! traced at 100 % exporting OTLP/gRPC to rotel, loaded by the book's load
//! generator (`crates/loadgen`). The runner checks that every request was
//! answered and every span accounted for, and records the figures
//! (`target/book-results/ch21_perf.json`) that the chapter's table shows.

use anyhow::Result;
use std::path::Path;
use std::process::Command;

use crate::run;

/// Seconds per load phase in `cargo xtask test`: enough to check
/// correctness, too short for figures worth quoting.
pub const TEST_SECONDS: u64 = 1;
/// Seconds per load phase in `cargo xtask load` unless given.
pub const DEFAULT_SECONDS: u64 = 10;
/// Requests per second through the four-service chain (gateway → order →
/// user, payment), all four processes and the collector on the same cores.
pub const CHAIN_RATE: u64 = 2000;

/// Builds the load generator, its target and the four services (release:
/// debug-build figures would say nothing about the system) and runs the
/// three one-hop configurations and the chain, each phase lasting `seconds`.
pub fn run(root: &Path, seconds: u64) -> Result<()> {
    let agent = crate::collector::ensure_rotel(root)?;
    build_release(&["otlp-csp-services"])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--rotel")
        .arg(agent)
        .args(["--seconds", &seconds.to_string()])
        .args(["--chain-rate", &CHAIN_RATE.to_string(), "--logs"])
        .arg(root.join("target"));
    run::command(cmd)
}

/// Chapter 19's fault runs: the four release-built services at
/// [`CHAIN_RATE`] against `otlp-receiver` playing a collector that answers
/// part of the export requests badly (`ch21-perf --faults`), one run of
/// `seconds` per fault; fails unless every request was answered and every
/// span accounted for; records the results group `collector_faults`.
pub fn faults(
    root: &Path,
    seconds: u64,
    repeats: u64,
    slow_peer_only: bool,
) -> Result<()> {
    build_release(&["otlp-csp-services", "otlp-receiver"])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--faults")
        .arg(root.join("target/release/otlp-receiver"))
        .args(["--seconds", &seconds.to_string()])
        .args(["--repeats", &repeats.to_string()])
        .args(slow_peer_only.then_some("--slow-peer-only"))
        .args(["--chain-rate", &CHAIN_RATE.to_string()])
        .arg("--logs")
        .arg(root.join("target"));
    run::command(cmd)
}

/// The soak's rate: 70 % of [`CHAIN_RATE`], the rate at which chapter 21
/// finds both cores of the book's machine busy.
pub const SOAK_RATE: u64 = CHAIN_RATE * 7 / 10;
/// `cargo xtask soak`'s default length, and the test command's.
pub const SOAK_SECONDS: u64 = 600;
pub const SOAK_TEST_SECONDS: u64 = 30;

/// The soak (`ch21-perf --soak`): the four release-built services at
/// [`SOAK_RATE`] for `seconds`, exporting to a healthy `otlp-receiver`, their
/// memory and descriptors sampled every second; fails unless every request
/// was answered and every span and log record accounted for; records the
/// results group `soak`.
pub fn soak(root: &Path, seconds: u64) -> Result<()> {
    build_release(&["otlp-csp-services", "otlp-receiver"])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--soak")
        .arg(root.join("target/release/otlp-receiver"))
        .args(["--seconds", &seconds.to_string()])
        .args(["--chain-rate", &SOAK_RATE.to_string()])
        .arg("--logs")
        .arg(root.join("target"));
    run::command(cmd)
}

/// Builds the runner `ch21-perf` and the binaries of `packages`, release:
/// debug-build figures would say nothing about the system.
fn build_release(packages: &[&str]) -> Result<()> {
    // The runner needs loadgen's `record` feature. Two builds:
    // `--features otlp-csp-loadgen/record` beside a second `-p` does not
    // turn it on (cargo skips the runner without a word).
    let release = ["build", "--quiet", "--locked", "--release"];
    let mut runner = release.to_vec();
    runner.extend(["-p", "otlp-csp-loadgen", "--features", "record", "--bins"]);
    run::cargo(&runner)?;
    let mut bins = release.to_vec();
    for package in packages {
        bins.extend(["-p", package]);
    }
    bins.push("--bins");
    run::cargo(&bins)
}

/// The longest phase `cargo xtask load` accepts, in seconds.
pub const MAX_SECONDS: u64 = 120;

/// `cargo xtask load [SECONDS]` (default [`DEFAULT_SECONDS`]; clap has
/// checked it is from 1 to [`MAX_SECONDS`]).
pub fn command(root: &Path, seconds: Option<u64>) -> Result<()> {
    let seconds = seconds.unwrap_or(DEFAULT_SECONDS);
    run::step(
        &format!("Chapter 21's load runs ({seconds} s per phase)"),
        || run(root, seconds),
    )
}
