//! The book's OTLP receiver against an independent client: the Python
//! OpenTelemetry SDK with its OTLP/HTTP and OTLP/gRPC exporters, installed
//! (pinned) into `target/venv`, sends a known set of spans to the `otlp-receiver`
//! binary, which must receive exactly them.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{run, venv};

/// The Python packages the check runs with, pinned.
const PACKAGES: [&str; 3] = [
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp-proto-http==1.45.2",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
];

/// Returns `target/venv`'s python with the pinned packages, installing them first
/// if needed (the venv is shared with the rotel check, see collector.rs).
fn ensure_python(root: &Path) -> Result<PathBuf> {
    let venv = venv::ensure(root)?;
    let python = venv.join("bin/python");
    let versions_ok = installed_versions_match(&venv)?;
    if !versions_ok {
        venv::pip_install(root, "the Python OTLP exporters", &PACKAGES)?;
    }
    Ok(python)
}

/// Whether `pip freeze` lists every pinned package at its pinned version.
fn installed_versions_match(venv: &Path) -> Result<bool> {
    let out = Command::new(venv.join("bin/pip"))
        .arg("freeze")
        .output()
        .context("running pip freeze")?;
    let freeze = String::from_utf8_lossy(&out.stdout).to_lowercase();
    Ok(PACKAGES
        .iter()
        .all(|p| freeze.lines().any(|l| l.trim() == *p)))
}

/// Kills the receiver if the check fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One `span` line of the receiver's summary.
#[derive(Debug)]
struct SpanLine {
    protocol: String,
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attrs: String,
}

fn parse_span(line: &str) -> Option<SpanLine> {
    let f: Vec<&str> = line.split('\t').collect();
    (f.len() == 7 && f[0] == "span").then(|| SpanLine {
        protocol: f[1].into(),
        trace_id: f[2].into(),
        span_id: f[3].into(),
        parent: f[4].into(),
        name: f[5].into(),
        attrs: f[6].into(),
    })
}

/// Runs tests/python/send_spans.py against the `otlp-receiver` binary.
pub fn python_sends_to_receiver(root: &Path) -> Result<()> {
    let python = ensure_python(root)?;
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "-p",
        "otlp-receiver",
        "--bin",
        "otlp-receiver",
    ])?;
    let child = Command::new(root.join("target/debug/otlp-receiver"))
        .args(["--spans", "4", "--timeout", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting target/debug/otlp-receiver")?;
    let mut receiver = Running(child);
    let stdout = receiver.0.stdout.take().context("receiver stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = |label: &str| -> Result<String> {
        let line = lines
            .next()
            .context("the receiver exited before printing its ports")??;
        line.strip_prefix(&format!("{label} "))
            .map(str::to_owned)
            .with_context(|| format!("expected `{label} ADDR`, got {line:?}"))
    };
    let grpc = addr("grpc")?;
    let http = addr("http")?;

    let out = Command::new(&python)
        .arg(root.join("tests/python/send_spans.py"))
        .args(["--http", &format!("http://{http}")])
        .args(["--grpc", &format!("http://{grpc}")])
        .output()
        .context("running tests/python/send_spans.py")?;
    if !out.status.success() {
        bail!(
            "send_spans.py failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The receiver exits by itself once it has the 4 spans (or after 60 s).
    let rest: Vec<String> = lines.collect::<std::io::Result<_>>()?;
    let status = receiver.0.wait()?;
    if !status.success() {
        bail!("the receiver did not get 4 spans:\n{}", rest.join("\n"));
    }
    let spans: Vec<SpanLine> = rest.iter().filter_map(|l| parse_span(l)).collect();
    if spans.len() != 4 {
        bail!(
            "expected 4 spans, the receiver printed:\n{}",
            rest.join("\n")
        );
    }
    for (protocol, transport) in [("http/protobuf", "http"), ("grpc", "grpc")] {
        let find = |name: &str| {
            spans
                .iter()
                .find(|s| s.protocol == protocol && s.name == name)
                .with_context(|| {
                    format!("no {name} span over {protocol}: {spans:#?}")
                })
        };
        let parent = find("py-parent")?;
        let child = find("py-child")?;
        let wanted_attrs = format!("client=python,transport={transport}");
        if !parent.parent.is_empty() || parent.attrs != wanted_attrs {
            bail!(
                "py-parent over {protocol} is not a root with {wanted_attrs}: {parent:?}"
            );
        }
        if child.parent != parent.span_id || child.trace_id != parent.trace_id {
            bail!(
                "py-child over {protocol} is not py-parent's child: {child:?} {parent:?}"
            );
        }
        if child.attrs != "n=1"
            || child.trace_id.len() != 32
            || child.span_id.len() != 16
        {
            bail!("py-child over {protocol} is not as sent: {child:?}");
        }
    }
    println!(
        "    the receiver got the Python SDK's 4 spans exactly (http/protobuf and grpc)"
    );
    Ok(())
}
