//! `cargo xtask fuzz [SECONDS]`: runs each fuzz target of `fuzz/` for a bounded
//! time with cargo-fuzz (libFuzzer), and the test stage that replays the saved
//! corpus without it.
//!
//! cargo-fuzz passes nightly-only flags (`-Zsanitizer=address`); with the one
//! stable toolchain of this project it works when `RUSTC_BOOTSTRAP=1` is set,
//! which this command does for its own child processes only.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

use crate::run;

/// The pinned cargo-fuzz, installed into `target/tools` on first use.
pub const CARGO_FUZZ: (&str, &str) = ("cargo-fuzz", "0.13.2");

/// The targets in `fuzz/fuzz_targets`.
pub const TARGETS: [&str; 3] = ["traceparent", "tracestate", "baggage"];

/// Seconds per target when none are given.
pub const DEFAULT_SECONDS: u64 = 60;

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
    for target in TARGETS {
        run::step(
            &format!("Fuzzing {target} for {seconds}s (new inputs go to fuzz/corpus/{target})"),
            || {
                let mut cmd = Command::new(&bin);
                cmd.args(["fuzz", "run", target, "--fuzz-dir", "fuzz"])
                    .arg("--")
                    .arg(format!("-max_total_time={seconds}"))
                    .arg("-max_len=4096")
                    .env("RUSTC_BOOTSTRAP", "1")
                    .current_dir(root);
                run::command(cmd)
            },
        )?;
    }
    println!(
        "No crash. Replay the corpus on stable with: cargo xtask test (stage \"fuzz corpus\")"
    );
    Ok(())
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
/// stable Rust (`crates/telemetry/tests/propagation_fuzz_corpus.rs`).
pub fn replay_corpus() -> Result<()> {
    run::cargo(&[
        "test",
        "--locked",
        "--quiet",
        "-p",
        "otlp-csp-telemetry",
        "--test",
        "propagation_fuzz_corpus",
    ])
}
