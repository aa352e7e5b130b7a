//! The pinned book tools, installed on first use.

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// The versions the book is built and tested with.
pub const MDBOOK: (&str, &str) = ("mdbook", "0.5.4");
pub const MDBOOK_MERMAID: (&str, &str) = ("mdbook-mermaid", "0.17.1");

/// Where the right versions of the tools were found.
pub struct Tools {
    /// Directory holding both binaries; put first on PATH when running mdbook,
    /// so mdbook finds the pinned mdbook-mermaid.
    bin_dir: PathBuf,
}

impl Tools {
    pub fn mdbook_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("mdbook"));
        cmd.args(args).env("PATH", self.path_var());
        cmd
    }

    fn path_var(&self) -> std::ffi::OsString {
        let mut paths = vec![self.bin_dir.clone()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(paths).expect("PATH entries are valid")
    }
}

/// Finds the pinned mdbook and mdbook-mermaid, or installs them (from source,
/// with `cargo install --locked`) into `target/tools`.
pub fn ensure() -> Result<Tools> {
    let local = std::env::current_dir()?.join("target/tools/bin");
    // Prefer a copy of both tools already on PATH at the right versions
    // (e.g. in ~/.cargo/bin); otherwise the project's own copy.
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([local.clone()])
    {
        if has_version(&dir, MDBOOK) && has_version(&dir, MDBOOK_MERMAID) {
            return Ok(Tools { bin_dir: dir });
        }
    }
    for (name, version) in [MDBOOK, MDBOOK_MERMAID] {
        if !has_version(&local, (name, version)) {
            run::step(
                &format!(
                    "Installing {name} {version} into target/tools (a few minutes, once)"
                ),
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
    }
    Ok(Tools { bin_dir: local })
}

fn has_version(dir: &Path, (name, version): (&str, &str)) -> bool {
    let Ok(out) = Command::new(dir.join(name)).arg("--version").output() else {
        return false;
    };
    // `mdbook v0.5.4`, `mdbook-mermaid 0.17.1`
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .any(|w| w.trim_start_matches('v') == version)
}
