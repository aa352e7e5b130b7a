//! The book's examples against a real OTLP collector, and the same collector
//! going down under load: rotel, a Rust collector whose PyPI wheel carries
//! its binary, installed into `target/venv`.

use anyhow::{Context, Result, bail};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{run, venv};

/// The collector version the tests are run against.
const ROTEL: &str = "rotel==0.0.1a15";

/// Finds rotel-agent in `target/venv`, installing it there first if needed.
pub fn ensure_rotel(root: &Path) -> Result<PathBuf> {
    const AGENT: &str = "rotel/rotel-agent";
    if let Some(agent) = venv::site_file(root, AGENT) {
        return Ok(agent);
    }
    venv::pip_install(root, ROTEL, &["--pre", ROTEL])?;
    venv::site_file(root, AGENT)
        .context("rotel installed, but rotel/rotel-agent is not in target/venv")
}

/// Two distinct ports nobody is listening on right now (both are held until
/// both are known, so the OS cannot hand out the same one twice).
pub(crate) fn two_free_ports() -> Result<(u16, u16)> {
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

/// A rotel process logging what it receives; killed if a check fails half-way.
pub(crate) struct Rotel {
    child: Running,
    log_path: PathBuf,
}

impl Rotel {
    /// Starts rotel on the two ports with a debug log of `signals` at
    /// `verbosity` (`basic`: one line per request with counts; `detailed`:
    /// every item), written to `log_path`, and waits until it listens.
    pub(crate) fn start(
        agent: &Path,
        (grpc, http): (u16, u16),
        signals: &[&str],
        verbosity: &str,
        log_path: PathBuf,
    ) -> Result<Rotel> {
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = Command::new(agent);
        cmd.args(["start", "--exporter", "blackhole"]);
        for signal in signals {
            cmd.args(["--debug-log", signal]);
        }
        cmd.args([
            "--debug-log-verbosity",
            verbosity,
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{grpc}"),
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{http}"),
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", agent.display()))?;
        let rotel = Rotel {
            child: Running(child),
            log_path,
        };
        wait_for_port(grpc)?;
        wait_for_port(http)?;
        Ok(rotel)
    }

    /// Its log so far, without terminal colour codes.
    pub(crate) fn log(&self) -> Result<String> {
        let text = std::fs::read_to_string(&self.log_path)?;
        Ok(strip_ansi(&text))
    }

    /// Stops it the way an operator would (SIGTERM), so that it finishes
    /// writing what it has acknowledged, and waits for it to exit.
    pub(crate) fn stop(mut self) -> Result<String> {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        self.child.0.wait()?;
        self.log()
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs `ch01_hello_trace` (traces) and `ch13_logs` (traces, metrics and
/// logs) once per OTLP protocol against rotel, and checks that the collector
/// logged every span, metric and log record of every run.
pub fn examples_against_rotel(root: &Path) -> Result<()> {
    let agent = ensure_rotel(root)?;
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "--example",
        "ch01_hello_trace",
        "--example",
        "ch13_logs",
        "--example",
        "ch13_tracing_setup",
    ])?;
    let ports = two_free_ports()?;
    let (grpc, http) = ports;
    let rotel = Rotel::start(
        &agent,
        ports,
        &["traces", "metrics", "logs"],
        "detailed",
        root.join("target/xtask-rotel.log"),
    )?;

    let runs = [("http/protobuf", http), ("http/json", http), ("grpc", grpc)];
    for (protocol, port) in runs {
        for (example, expected) in [
            ("ch01_hello_trace", "4 spans ended, 4 exported, 0 dropped\n"),
            // Silent when everything was exported; an error names what was lost.
            ("ch13_logs", ""),
            // `tracing` spans and events, through the two layers.
            (
                "ch13_tracing_setup",
                "3 spans ended, 3 exported, 0 dropped\n",
            ),
        ] {
            let out = Command::new(root.join("target/debug/examples").join(example))
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
                .env(
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://127.0.0.1:{port}"),
                )
                .output()?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || !stdout.ends_with(expected) {
                bail!(
                    "{example} over {protocol} did not export everything:\n{stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    // Per run: ch01 has 1 handle_request, 1 load_user, 2 consume_item spans;
    // ch13_logs 2 handle_order spans, 4 log records, 1 request.duration
    // histogram; ch13_tracing_setup 1 handle_request, 1 load_user, 1 price
    // span and 3 log records; all three export the set-up's own counts
    // (otlp_csp.telemetry.items).
    let expected = [
        ("span handle_request", 6),
        ("span load_user", 6),
        ("span consume_item", 6),
        ("span handle_order", 6),
        ("span price", 3),
        ("log record", 21),
        ("metric request.duration", 3),
        ("metric otlp_csp.telemetry.items", 9),
    ];
    // The debug log is written as batches arrive; give the last one a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = rotel.log()?;
        let seen: Vec<(&str, usize)> = expected
            .iter()
            .map(|(what, _)| (*what, count_in_detailed_log(&text, what)))
            .collect();
        if seen.iter().zip(&expected).all(|(a, b)| a.1 == b.1) {
            println!(
                "    rotel received every span (27), log record (21) and metric (12) of 9 runs \
                 (http/protobuf, http/json, grpc)"
            );
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "rotel logged {seen:?}, expected {expected:?}; its log is {}",
                rotel.log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    rotel.stop()?;
    Ok(())
}

/// How many times rotel's detailed log shows `what`: `span NAME`,
/// `log record`, or `metric NAME`.
pub(crate) fn count_in_detailed_log(text: &str, what: &str) -> usize {
    let lines = text.lines().map(str::trim);
    if let Some(name) = what.strip_prefix("span ") {
        lines
            .filter(|l| {
                l.starts_with("Name")
                    && l.split(':').nth(1).map(str::trim) == Some(name)
            })
            .count()
    } else if let Some(name) = what.strip_prefix("metric ") {
        lines.filter(|l| *l == format!("-> Name: {name}")).count()
    } else {
        lines.filter(|l| l.starts_with("LogRecord #")).count()
    }
}

/// The total of `spans=N` over rotel's basic debug log (one line per request).
pub(crate) fn spans_in_basic_log(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.contains("Received traces"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|word| word.strip_prefix("spans="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

/// What `outage_load` printed at the end.
#[derive(Debug, Default)]
struct LoadReport {
    samples: Vec<(u64, u64)>, // (ended, rss_kb)
    ended: u64,
    exported: u64,
    failed: u64,
    dropped: u64,
    peak_rss_kb: u64,
}

fn parse_load_report(stdout: &str) -> Result<LoadReport> {
    let field = |line: &str, name: &str| -> Result<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .with_context(|| format!("no {name}= in {line:?}"))?
            .parse::<u64>()
            .with_context(|| format!("{name} in {line:?}"))
    };
    let mut report = LoadReport::default();
    let mut finished = false;
    for line in stdout.lines() {
        if line.starts_with("sample ") {
            report
                .samples
                .push((field(line, "ended")?, field(line, "rss_kb")?));
        } else if line.starts_with("final ") {
            report.ended = field(line, "ended")?;
            report.exported = field(line, "exported")?;
            report.failed = field(line, "failed")?;
            report.dropped = field(line, "dropped")?;
            report.peak_rss_kb = field(line, "peak_rss_kb")?;
            finished = true;
        }
    }
    if !finished {
        bail!("outage_load printed no final line:\n{stdout}");
    }
    Ok(report)
}

/// Seconds of steady load, spans per second, and when the collector is down.
const LOAD_SECONDS: u64 = 9;
const LOAD_RATE: u64 = 2000;
const DOWN_AT: Duration = Duration::from_secs(3);
const UP_AT: Duration = Duration::from_secs(6);
/// The process is small; a leak of queued spans during the outage would not be.
const PEAK_RSS_LIMIT_KB: u64 = 96 * 1024;

/// Stops the collector in the middle of a steady load and starts it again.
/// The application must keep running, its memory must stay bounded, and
/// every span must be accounted for exactly: the spans that ended equal the
/// spans the collector received plus the spans the set-up counted as failed
/// or dropped.
pub fn collector_outage(root: &Path) -> Result<()> {
    let agent = ensure_rotel(root)?;
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "-p",
        "otlp-csp-telemetry",
        "--example",
        "outage_load",
    ])?;
    let ports = two_free_ports()?;
    let first = Rotel::start(
        &agent,
        ports,
        &["traces"],
        "basic",
        root.join("target/xtask-outage-1.log"),
    )?;
    let started = Instant::now();
    let load = Command::new(root.join("target/debug/examples/outage_load"))
        .args([LOAD_SECONDS.to_string(), LOAD_RATE.to_string()])
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", ports.1),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let load = Running(load);

    std::thread::sleep(DOWN_AT.saturating_sub(started.elapsed()));
    let before = first.stop()?;
    std::thread::sleep(UP_AT.saturating_sub(started.elapsed()));
    let second = Rotel::start(
        &agent,
        ports,
        &["traces"],
        "basic",
        root.join("target/xtask-outage-2.log"),
    )?;

    let mut load = load;
    let limit = Duration::from_secs(LOAD_SECONDS + 30);
    let out = run::wait_within(&mut load.0, limit)?
        .with_context(|| format!("the load did not finish within {limit:?}"))?;
    let after = second.stop()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = parse_load_report(&stdout)?;
    let received = spans_in_basic_log(&before) + spans_in_basic_log(&after);

    let lost = report.failed + report.dropped;
    let sent = LOAD_SECONDS * LOAD_RATE;
    if report.ended != sent {
        bail!("outage_load ended {} spans, expected {sent}", report.ended);
    }
    if received != report.exported {
        bail!(
            "the collector received {received} spans but the application counted {} exported",
            report.exported
        );
    }
    if report.ended != received + lost {
        bail!(
            "{} spans ended but {received} were received and {lost} counted as lost",
            report.ended
        );
    }
    if lost == 0 {
        bail!(
            "the outage lost no span: the collector was not down while spans were sent"
        );
    }
    // Kept running: a sample every 500 ms all the way through.
    let samples = report.samples.len() as u64;
    if samples < LOAD_SECONDS * 2 - 1 {
        bail!(
            "outage_load printed {samples} samples in {LOAD_SECONDS} s: it stalled"
        );
    }
    if report.peak_rss_kb > PEAK_RSS_LIMIT_KB {
        bail!(
            "outage_load peaked at {} kB, above the {PEAK_RSS_LIMIT_KB} kB bound",
            report.peak_rss_kb
        );
    }
    use book_results::Measurement;
    book_results::record(
        "outage",
        vec![
            Measurement::count("outage/ended", report.ended as f64, "spans"),
            Measurement::count("outage/received", received as f64, "spans"),
            Measurement::count("outage/failed", report.failed as f64, "spans"),
            Measurement::count("outage/dropped", report.dropped as f64, "spans"),
            Measurement::count(
                "outage/uncounted",
                report.ended as f64 - (received + lost) as f64,
                "spans",
            ),
            Measurement::count(
                "outage/peak_rss",
                report.peak_rss_kb as f64 / 1024.0,
                "MiB",
            )
            .with_statistic("max"),
            Measurement::count(
                "outage/down_for",
                (UP_AT - DOWN_AT).as_secs_f64(),
                "s",
            ),
            Measurement::count("outage/rate", LOAD_RATE as f64, "spans/s"),
        ],
    )?;
    let rss: Vec<u64> = report.samples.iter().map(|s| s.1).collect();
    println!(
        "    {sent} spans ended = {received} received by the collector + {} failed + {} dropped \
         (collector down from {}s to {}s); RSS {}..{} kB, peak {} kB",
        report.failed,
        report.dropped,
        DOWN_AT.as_secs(),
        UP_AT.as_secs(),
        rss.iter().min().unwrap_or(&0),
        rss.iter().max().unwrap_or(&0),
        report.peak_rss_kb
    );
    Ok(())
}

pub(crate) fn wait_for_port(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the collector did not listen on 127.0.0.1:{port} within 20s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
