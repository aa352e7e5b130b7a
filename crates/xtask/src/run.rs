//! Running commands, with progress on the slow ones.

use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::Instant;

/// Prints what is about to happen, runs it, and prints how long it took, so a
/// cold run that compiles for minutes is visibly alive.
pub fn step<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {what}");
    let start = Instant::now();
    let result = f().with_context(|| format!("{what} failed"));
    if result.is_ok() {
        println!("    done in {:.1}s", start.elapsed().as_secs_f64());
    }
    result
}

/// Runs `cargo ARGS` with the same toolchain that runs xtask.
pub fn cargo(args: &[&str]) -> Result<()> {
    let mut cmd =
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args);
    command(cmd)
}

/// Runs the book's preprocessor binary with a subcommand (`baseline`,
/// `record-provenance`, `check-baseline`).
pub fn preprocessor(args: &[&str]) -> Result<()> {
    let mut all = vec![
        "run",
        "--quiet",
        "--locked",
        "-p",
        "book-preprocessor",
        "--",
    ];
    all.extend_from_slice(args);
    cargo(&all)
}

/// Runs a command to completion, inheriting stdout/stderr; a non-zero exit is an error.
pub fn command(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}

/// Runs a command and returns its stdout; a non-zero exit is an error.
pub fn output(mut cmd: Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} exited with {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits for `child` (spawned with piped stdout and stderr) to exit within
/// `limit`, reading both pipes on threads so that a chatty child cannot
/// block on a full pipe. `None` means the limit passed: the child is killed.
pub fn wait_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Result<Option<std::process::Output>> {
    use std::io::Read;
    fn drain(
        pipe: Option<impl Read + Send + 'static>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Ok(Some(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }))
}
