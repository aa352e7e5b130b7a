//! The chapter-1 example against a real OTLP collector: rotel, a Rust
//! collector whose PyPI wheel carries its binary, installed into `.venv`.

use anyhow::{Context, Result, bail};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run;

/// The collector version the tests are run against.
const ROTEL: &str = "rotel==0.0.1a15";

/// Finds rotel-agent in `.venv`, installing it there first if needed.
pub fn ensure_rotel(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    if let Some(agent) = find_agent(&venv) {
        return Ok(agent);
    }
    run::step(&format!("Installing {ROTEL} into .venv (pip)"), || {
        let mut venv_cmd = Command::new("python3");
        venv_cmd.args(["-m", "venv"]).arg(&venv);
        run::command(venv_cmd)?;
        let mut pip = Command::new(venv.join("bin/pip"));
        pip.args(["install", "--quiet", "--pre", ROTEL]);
        run::command(pip)
    })?;
    find_agent(&venv).context("rotel installed, but rotel/rotel-agent is not in .venv")
}

fn find_agent(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    std::fs::read_dir(lib).ok()?.flatten().find_map(|py| {
        let agent = py.path().join("site-packages/rotel/rotel-agent");
        agent.is_file().then_some(agent)
    })
}

/// Two distinct ports nobody is listening on right now (both are held until
/// both are known, so the OS cannot hand out the same one twice).
fn two_free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// Kills the collector if a check fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `ch01_hello_trace` once per OTLP protocol against rotel and checks
/// that the collector logged every span of every run.
pub fn ch01_against_rotel(root: &Path) -> Result<()> {
    let agent = ensure_rotel(root)?;
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "--example",
        "ch01_hello_trace",
    ])?;
    let (grpc, http) = two_free_ports()?;
    let log_path = root.join("target/xtask-rotel.log");
    let log = std::fs::File::create(&log_path)?;
    let child = Command::new(&agent)
        .args([
            "start",
            "--exporter",
            "blackhole",
            "--debug-log",
            "traces",
            "--debug-log-verbosity",
            "detailed",
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{grpc}"),
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{http}"),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", agent.display()))?;
    let mut collector = Running(child);
    wait_for_port(grpc)?;
    wait_for_port(http)?;

    let bin = root.join("target/debug/examples/ch01_hello_trace");
    let runs = [("http/protobuf", http), ("http/json", http), ("grpc", grpc)];
    for (protocol, port) in runs {
        let out = Command::new(&bin)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            )
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("4 spans ended, 4 exported, 0 dropped") {
            bail!(
                "ch01_hello_trace over {protocol} did not export all its spans:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // The debug log is written as batches arrive; give the last one a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log_path)?;
        let count = |name: &str| {
            text.lines()
                .filter(|l| l.trim_start().starts_with("Name") && l.trim_end().ends_with(name))
                .count()
        };
        let seen = (
            count("handle_request"),
            count("load_user"),
            count("consume_item"),
        );
        if seen == (3, 3, 6) {
            println!("    rotel received all 12 spans of 3 runs (http/protobuf, http/json, grpc)");
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "rotel logged {seen:?} (handle_request, load_user, consume_item) spans, \
                 expected (3, 3, 6); its log is {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = collector.0.kill();
    Ok(())
}

fn wait_for_port(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the collector did not listen on 127.0.0.1:{port} within 20s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
