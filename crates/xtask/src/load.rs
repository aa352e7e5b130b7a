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
/// Interleaved repeats of the one-hop runs in `cargo xtask load` unless
/// given; the chapter shows each figure's median and range.
pub const DEFAULT_REPEATS: u64 = 5;
/// The test command's repeats: it checks correctness, not figures.
pub const TEST_REPEATS: u64 = 1;
/// Requests per second through the four-service chain (gateway → order →
/// user, payment), all four processes and the collector on the same cores.
pub const CHAIN_RATE: u64 = 2000;

/// Builds the load generator, its target and the four services (release:
/// debug-build figures would say nothing about the system) and runs the
/// three one-hop configurations `repeats` times, interleaved, and the chain,
/// each phase lasting `seconds`.
pub fn run(root: &Path, seconds: u64, repeats: u64) -> Result<()> {
    let agent = crate::collector::ensure_rotel(root)?;
    build_release(&["otlp-csp-services"])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--rotel")
        .arg(agent)
        .args(["--seconds", &seconds.to_string()])
        .args(["--repeats", &repeats.to_string()])
        .args(["--chain-rate", &CHAIN_RATE.to_string()])
        // The chain's services sample their stacks (one flame graph), and
        // so does the target at 100 % at saturation, in a run of its own.
        .arg("--profile")
        .arg("--logs")
        .arg(root.join("target"));
    run::command(cmd)
}

/// Chapter 21's allocation profile (`ch21-perf --alloc-profile`): the
/// traced target built with dhat (`ch21-target-dhat`) loaded with a known
/// number of requests after warm-up; records the results group `ch21_alloc`.
pub fn alloc_profile(root: &Path) -> Result<()> {
    let agent = crate::collector::ensure_rotel(root)?;
    build_release(&[])?;
    // After the runner's build, so that the plain `ch21-target` stays
    // without the feature (which adds a check to every allocation).
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "--release",
        "-p",
        "otlp-csp-loadgen",
        "--features",
        "record,dhat",
        "--bin",
        "ch21-target-dhat",
    ])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--alloc-profile")
        .arg("--rotel")
        .arg(agent)
        .arg("--logs")
        .arg(root.join("target"));
    run::command(cmd)
}

/// Chapter 21's tuning runs (`ch21-perf --tuning`): the chain at
/// [`CHAIN_RATE`] under each runtime and allocator setting, `repeats`
/// rounds, interleaved; records the results group `ch21_tuning`.
pub fn tuning(root: &Path, seconds: u64, repeats: u64) -> Result<()> {
    let agent = crate::collector::ensure_rotel(root)?;
    build_release(&["otlp-csp-services"])?;
    let mut cmd = Command::new(root.join("target/release/ch21-perf"));
    cmd.arg("--tuning")
        .arg("--rotel")
        .arg(agent)
        .args(["--seconds", &seconds.to_string()])
        .args(["--repeats", &repeats.to_string()])
        .args(["--chain-rate", &CHAIN_RATE.to_string()])
        .arg("--logs")
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
    // With `profile`, ch21-target can sample its stacks at saturation; idle
    // unless the runner asks.
    runner.extend([
        "-p",
        "otlp-csp-loadgen",
        "--features",
        "record,profile",
        "--bins",
    ]);
    run::cargo(&runner)?;
    // The services alone: `--features PACKAGE/FEATURE` beside a second `-p`
    // is not applied either. Their measurement build has the allocator
    // chosen at start and the self-profile, both idle unless their
    // variables are set; every run builds them the same way, so none
    // rebuilds them.
    let (services, others): (Vec<&str>, Vec<&str>) =
        packages.iter().partition(|p| **p == "otlp-csp-services");
    if !services.is_empty() {
        let mut bins = release.to_vec();
        bins.extend([
            "-p",
            "otlp-csp-services",
            "--features",
            "allocators,profile",
        ]);
        bins.push("--bins");
        run::cargo(&bins)?;
    }
    if others.is_empty() {
        return Ok(());
    }
    let mut bins = release.to_vec();
    for package in others {
        bins.extend(["-p", package]);
    }
    bins.push("--bins");
    run::cargo(&bins)
}

/// The longest phase `cargo xtask load` accepts, in seconds.
pub const MAX_SECONDS: u64 = 120;

/// `cargo xtask load [SECONDS] [--repeats N]` (defaults [`DEFAULT_SECONDS`]
/// and [`DEFAULT_REPEATS`]; clap has checked the ranges).
pub fn command(
    root: &Path,
    seconds: Option<u64>,
    repeats: u64,
    tuning: bool,
    alloc: bool,
) -> Result<()> {
    let seconds = seconds.unwrap_or(DEFAULT_SECONDS);
    if alloc {
        return run::step("Chapter 21's allocation profile", || alloc_profile(root));
    }
    if tuning {
        return run::step(
            &format!(
                "Chapter 21's tuning runs ({seconds} s each, {repeats} rounds)"
            ),
            || self::tuning(root, seconds, repeats),
        );
    }
    run::step(
        &format!(
            "Chapter 21's load runs ({seconds} s per phase, {repeats} repeat(s))"
        ),
        || run(root, seconds, repeats),
    )
}
