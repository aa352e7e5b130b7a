//! Chapter 21's runner: starts the benchmark target three times (untraced,
//! traced at 1 %, traced at 100 % exporting OTLP/gRPC to a real collector),
//! loads each one (closed loop at saturation, then open loop at a fixed
//! rate), checks that every request was answered and every span accounted
//! for, and records the figures with `book_results::record` (group
//! `ch21_perf`).
//!
//! `ch21-perf --rotel PATH [--seconds S] [--repeats N] [--rate R] [--connections C] [--chain-rate R] [--logs DIR]`
//!
//! With `--repeats N` the three one-hop runs are repeated interleaved
//! (untraced, 1 %, 100 %, untraced, ...), each with a fresh target process,
//! and every figure is the median of the N, with their range.
//!
//! With `--chain-rate`, the four services of `otlp-csp-services` (their release
//! binaries beside this one) are loaded too, through the gateway.
//!
//! `--rotel` is the rotel-agent binary (`cargo xtask load` installs it).
//!
//! `ch21-perf --faults RECEIVER [--seconds S] [--chain-rate R]` runs only
//! chapter 19's faults: the four services at the chain rate against the
//! book's `otlp-receiver` (the binary RECEIVER) answering part of the export
//! requests badly, one run per fault ([`faults::CASES`]); results group
//! `collector_faults`.
//!
//! `ch21-perf --soak RECEIVER --seconds S --chain-rate R` runs the same
//! services against a healthy receiver for S seconds at R, sampling their
//! memory and descriptors every second; results group `soak`.
//!
//! `ch21-perf --alloc-profile --rotel PATH` profiles the allocations of the
//! traced (100 %) target per call site with dhat (`ch21-target-dhat`, built
//! with the feature `dhat`); results group `ch21_alloc` ([`alloc_profile`]).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use book_results::Measurement;
use book_results::paired::{load_average, median};
use otlp_csp_loadgen::{
    Bounds, Connection as _, HttpConnection, MAX_REQUESTS, Outcome, Report,
    Schedule, Target, closed_loop, open_loop, procfs,
};

/// The runner's settings.
#[derive(Debug)]
struct Settings {
    rotel: PathBuf,
    seconds: f64,
    rate: f64,
    connections: usize,
    logs: PathBuf,
    /// Requests per second through the four-service chain; 0: no chain run.
    chain_rate: f64,
    /// The otlp-receiver binary: run the fault cases only.
    faults: Option<PathBuf>,
    /// The otlp-receiver binary: run the soak only.
    soak: Option<PathBuf>,
    /// Interleaved repeats of the one-hop runs and of the fault runs.
    repeats: usize,
    /// With `--faults`: only the slow-peer runs.
    slow_peer_only: bool,
    /// Only the chain run (no one-hop modes).
    chain_only: bool,
    /// Only the allocation profile (`--alloc-profile`).
    alloc_profile: bool,
    /// The chain's services profile themselves, and the one-hop target at
    /// 100 % at saturation, in a run of its own (`--profile`).
    profile: bool,
    /// The chain under each runtime and allocator setting (`--tuning`).
    tuning: bool,
}

fn settings() -> Result<Settings> {
    let mut args = std::env::args().skip(1);
    let mut s = Settings {
        rotel: PathBuf::new(),
        seconds: 2.0,
        rate: 20_000.0,
        connections: 32,
        logs: PathBuf::from("target"),
        chain_rate: 0.0,
        faults: None,
        soak: None,
        repeats: 1,
        slow_peer_only: false,
        chain_only: false,
        alloc_profile: false,
        profile: false,
        tuning: false,
    };
    while let Some(flag) = args.next() {
        if flag == "--slow-peer-only" {
            s.slow_peer_only = true;
            continue;
        }
        if flag == "--chain-only" {
            s.chain_only = true;
            continue;
        }
        if flag == "--profile" {
            s.profile = true;
            continue;
        }
        if flag == "--tuning" {
            s.tuning = true;
            continue;
        }
        if flag == "--alloc-profile" {
            s.alloc_profile = true;
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let number = || -> Result<f64> {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .with_context(|| {
                    format!("{flag} {value:?}: expected a positive number")
                })
        };
        match flag.as_str() {
            "--rotel" => s.rotel = PathBuf::from(&value),
            "--seconds" => s.seconds = number()?,
            "--rate" => s.rate = number()?,
            "--connections" => s.connections = number()? as usize,
            "--logs" => s.logs = PathBuf::from(&value),
            "--chain-rate" => s.chain_rate = number()?,
            "--faults" => s.faults = Some(PathBuf::from(&value)),
            "--soak" => s.soak = Some(PathBuf::from(&value)),
            "--repeats" => s.repeats = number()? as usize,
            other => bail!("unknown option {other}"),
        }
    }
    match s.faults.as_ref().or(s.soak.as_ref()) {
        Some(receiver) => ensure!(
            receiver.is_file() && s.chain_rate > 0.0,
            "--faults RECEIVER and --soak RECEIVER need the otlp-receiver binary \
             and --chain-rate"
        ),
        None => ensure!(
            s.rotel.is_file(),
            "--rotel PATH (the rotel-agent binary) is required"
        ),
    }
    ensure!(
        (1..=1024).contains(&s.connections),
        "--connections must be in 1..=1024"
    );
    ensure!((1..=9).contains(&s.repeats), "--repeats must be in 1..=9");
    Ok(s)
}

/// One configuration of the target.
#[derive(Clone, Copy, Debug)]
struct Mode {
    /// The id prefix in the results.
    name: &'static str,
    /// `None`: untraced; `Some(r)`: traced, sampling ratio `r`.
    ratio: Option<f64>,
}

const MODES: [Mode; 3] = [
    Mode {
        name: "untraced",
        ratio: None,
    },
    Mode {
        name: "traced_1pct",
        ratio: Some(0.01),
    },
    Mode {
        name: "traced_100pct",
        ratio: Some(1.0),
    },
];

/// What one mode measured.
#[derive(Debug)]
struct Run {
    mode: Mode,
    startup: Duration,
    saturation: Report,
    fixed_rate: Report,
    alloc_per_request: f64,
    allocs_per_request: f64,
    /// Of `alloc_per_request`, the bytes in allocations of 4 KiB or more.
    large_per_request: f64,
    /// The target's CPU time per request at saturation, µs.
    cpu_per_request_us: f64,
    /// The load generator's part of the CPU time both processes used at saturation.
    loadgen_cpu_share: f64,
    /// rotel's CPU time per request at saturation, µs (0 untraced: no rotel).
    rotel_cpu_per_request_us: f64,
    /// How busy each core was at saturation.
    busy: Busy,
    status: procfs::Status,
    spans: Spans,
    /// Latency at fractions of this run's saturation throughput.
    curve: Vec<Point>,
    /// The target's resident memory once a second from the first request
    /// on, MiB.
    rss_mib: Vec<f64>,
}

/// CPU time per second of wall time at saturation, on each side's core:
/// 1.0 is a core busy all the time. The busier side bounds the throughput.
#[derive(Debug, Clone, Copy)]
struct Busy {
    /// The target's process.
    target: f64,
    /// The load generator's process and rotel's (traced runs).
    generator: f64,
}

/// One point of the latency curve: an open loop at `percent` of the
/// saturation throughput.
#[derive(Debug)]
struct Point {
    percent: u32,
    report: Report,
}

/// Spans per export for the traced target. One exporter thread sends one
/// batch at a time and waits for the collector's answer, so it exports at
/// most a batch per round trip; at saturation, with every thread of the
/// machine queueing for a core, a round trip takes milliseconds. The
/// specification's 512 spans per trip fell short of tens of thousands of
/// spans a second, and so did 2048 once the book's exporter let the traced
/// target serve as fast as the untraced one (spans were dropped, counted).
/// The queue holds four batches: one in flight, the rest filling.
const EXPORT_BATCH: usize = 8192;

/// The share of requests that carry a `traceparent` (one in this many), so
/// that the target's extraction is on the measured path.
const TRACEPARENT_EVERY: std::num::NonZeroU64 =
    std::num::NonZeroU64::new(10).unwrap();

/// `n` connections to `target`, a share of whose requests carry a `traceparent`.
async fn connections(target: &Target, n: usize) -> Result<Vec<HttpConnection>> {
    let conns = HttpConnection::open_many(target, n).await?;
    Ok(conns
        .into_iter()
        .map(|c| c.with_traceparent_every(TRACEPARENT_EVERY))
        .collect())
}

/// The target's span counts after shutdown, and the collector's.
#[derive(Debug, Default, Clone, Copy)]
struct Spans {
    ended: u64,
    exported: u64,
    failed: u64,
    dropped: u64,
    /// Delivered, but reported rejected by the collector (partial success).
    rejected: u64,
    received: u64,
}

impl Spans {
    /// The counts as results, each id made by `id` from its name.
    fn measurements(&self, id: impl Fn(&str) -> String) -> [Measurement; 6] {
        self.measurements_of("spans", "spans", id)
    }

    /// The same five counts of another kind of item (`logs`, `log records`):
    /// ids `KIND_ended`, `KIND_received`, ...
    fn measurements_of(
        &self,
        kind: &str,
        unit: &str,
        id: impl Fn(&str) -> String,
    ) -> [Measurement; 6] {
        let count = |what: &str, n: u64| {
            Measurement::count(id(&format!("{kind}_{what}")), n as f64, unit)
        };
        [
            count("ended", self.ended),
            count("received", self.received),
            count("failed", self.failed),
            count("dropped", self.dropped),
            count("rejected", self.rejected),
            Measurement::count(
                id(&format!("{kind}_uncounted")),
                self.uncounted() as f64,
                unit,
            ),
        ]
    }

    /// Adds another process's counts.
    fn add(&mut self, other: &Spans) {
        self.ended += other.ended;
        self.exported += other.exported;
        self.failed += other.failed;
        self.dropped += other.dropped;
        self.rejected += other.rejected;
        self.received += other.received;
    }

    /// Spans that ended but neither reached the collector nor were counted
    /// as failed, dropped or rejected (negative if the collector got more
    /// than ended).
    fn uncounted(&self) -> i64 {
        let counted = self.received + self.failed + self.dropped + self.rejected;
        self.ended as i64 - counted as i64
    }
}

fn main() -> Result<()> {
    let s = settings()?;
    let load = load_average()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let target_bin = std::env::current_exe()?
        .parent()
        .context("the runner has no directory")?
        .join("ch21-target");
    ensure!(
        target_bin.is_file(),
        "{} not found: build the package's binaries first",
        target_bin.display()
    );
    std::fs::create_dir_all(&s.logs)?;
    if let Some(receiver) = &s.faults {
        if s.slow_peer_only {
            return slow_peer_runs(&rt, &s, receiver, load);
        }
        return fault_runs(&rt, &s, receiver, load);
    }
    if let Some(receiver) = &s.soak {
        return soak_run(&rt, &s, receiver, load);
    }
    if s.alloc_profile {
        return alloc_profile::run(&rt, &s, load);
    }
    if s.tuning {
        return chain::tuning(&rt, &s, load);
    }
    let mut runs = Vec::new();
    // The generator on one core, the target on the others; the chain's
    // services run unpinned, after.
    let pinning = pinning::Pinning::start()?;
    let pinned = pinning::Pinning::measurement(pinning.as_ref());
    println!("{}", pinning::Pinning::describe(pinning.as_ref()));
    // Interleaved: a slow spell of the machine hits every mode alike.
    for repeat in 1..=s.repeats {
        for mode in MODES.iter().filter(|_| !s.chain_only) {
            let mode = *mode;
            let run = run_mode(&rt, &s, &target_bin, mode, None)
                .with_context(|| format!("mode {} (repeat {repeat})", mode.name))?;
            print!("repeat {repeat}: ");
            print_run(&run);
            runs.push(run);
        }
    }
    // One more run at 100 % samples the target's stacks at saturation
    // (`--profile`). It is not one of the repeats: the sampler's own memory
    // and signals would show in the table's figures.
    let profiled = (s.profile && !s.chain_only)
        .then(|| s.logs.join("ch21-profile-target.folded"));
    if let Some(file) = &profiled {
        let mode = *MODES.iter().find(|m| m.ratio == Some(1.0)).expect("100 %");
        let run = run_mode(&rt, &s, &target_bin, mode, Some(file))
            .context("the profiled run at 100 %")?;
        print!("profiled run (not in the table): ");
        print_run(&run);
    }
    drop(pinning);
    // Recorded unpinned, so that the results name the machine's cores.
    if let Some(file) = &profiled {
        record_profile("profile_ch21_target", &[("ch21-target", file)])?;
    }
    let chain = if s.chain_rate > 0.0 {
        let c = chain::run(&rt, &s).context("the four-service chain")?;
        println!(
            "chain (gateway -> order -> user, payment), traced at 100 %: {}",
            c.fixed_rate.summary()
        );
        println!(
            "  spans: ended {} exported {} failed {} dropped {} received by the collector {} uncounted {}",
            c.spans.ended,
            c.spans.exported,
            c.spans.failed,
            c.spans.dropped,
            c.spans.received,
            c.spans.uncounted()
        );
        let cpu: Vec<String> = c
            .cpu_per_request_us
            .iter()
            .map(|(name, us)| format!("{name} {us:.0}"))
            .collect();
        println!("  CPU per order, µs: {}", cpu.join(", "));
        let waiting: Vec<String> = c
            .waiting_per_request
            .iter()
            .map(|(name, w)| {
                format!("{name} {:.0} ({:.1} slices)", w.waiting_us, w.slices)
            })
            .collect();
        println!("  waiting for a core per order, µs: {}", waiting.join(", "));
        Some(c)
    } else {
        None
    };
    // Correctness first: figures from a run that lost a span or a request
    // are not recorded.
    check(&runs)?;
    if let Some(c) = &chain {
        c.check()?;
    }
    if s.chain_only {
        // A partial run (for profiling or trying a setting): nothing recorded.
        return Ok(());
    }
    record(&s, load, &runs, pinned, chain.as_ref())
}

fn print_run(r: &Run) {
    println!(
        "{}: startup {:.1} ms, RSS {:.1} MiB (peak {:.1}), {} threads, {:.0} B/request in {:.1} allocations",
        r.mode.name,
        r.startup.as_secs_f64() * 1e3,
        r.status.vm_rss_kb as f64 / 1024.0,
        r.status.vm_hwm_kb as f64 / 1024.0,
        r.status.threads,
        r.alloc_per_request,
        r.allocs_per_request
    );
    println!(
        "  saturation: {} (target CPU {:.1} µs/request, load generator {:.0} % of the CPU used)",
        r.saturation.summary(),
        r.cpu_per_request_us,
        r.loadgen_cpu_share * 100.0
    );
    println!(
        "  cores busy at saturation: target's {:.0} %, generator's {:.0} % (rotel {:.1} µs/request)",
        r.busy.target * 100.0,
        r.busy.generator * 100.0,
        r.rotel_cpu_per_request_us
    );
    println!("  fixed rate: {}", r.fixed_rate.summary());
    let sp = &r.spans;
    println!(
        "  spans: ended {} exported {} failed {} dropped {} received by the collector {} uncounted {}",
        sp.ended,
        sp.exported,
        sp.failed,
        sp.dropped,
        sp.received,
        sp.uncounted()
    );
}

/// Kills a child process if a step fails half-way.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_mode(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    target_bin: &Path,
    mode: Mode,
    profile: Option<&Path>,
) -> Result<Run> {
    let rotel = match mode.ratio {
        Some(_) => Some(Rotel::start(
            &s.rotel,
            s.logs.join(format!("ch21-rotel-{}.log", mode.name)),
        )?),
        None => None,
    };
    let rotel_pid = rotel.as_ref().map(Rotel::pid);
    let mut cmd = Command::new(target_bin);
    cmd.env("LISTEN_ADDR", "127.0.0.1:0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let (Some(ratio), Some(rotel)) = (mode.ratio, &rotel) {
        cmd.env("TARGET_SAMPLE_RATIO", ratio.to_string())
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", rotel.grpc),
            )
            .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", EXPORT_BATCH.to_string())
            .env("OTEL_BSP_MAX_QUEUE_SIZE", (4 * EXPORT_BATCH).to_string());
    }
    if let Some(file) = profile {
        cmd.env("OTLP_CSP_PROFILE", file);
    }
    pinning::target_command(&mut cmd)?;
    // ANCHOR: startup
    let spawned = Instant::now();
    let mut child = Killed(cmd.spawn().context("starting ch21-target")?);
    let pid = child.0.id();
    let mut stdout = BufReader::new(child.0.stdout.take().context("no stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("ch21-target printed {line:?}"))?
        .to_owned();
    let hello = Target::parse(&format!("http://{addr}/hello"))?;
    // Ready = the first request answered, not the port bound.
    let startup = rt.block_on(async {
        loop {
            if let Ok(mut c) = HttpConnection::open(&hello).await
                && c.call().await == Outcome::Ok
            {
                return Ok(spawned.elapsed());
            }
            if spawned.elapsed() > Duration::from_secs(20) {
                bail!("ch21-target did not answer within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })?;
    // ANCHOR_END: startup
    // Resident memory once a second, for the rest of the run.
    let memory = soak::Sampler::default();
    memory.start(vec![pid]);
    let phase = Duration::from_secs_f64(s.seconds);
    let (warmup, saturation, cpu, before, fixed_rate, after) =
        rt.block_on(async {
            let warm = Bounds::new(MAX_REQUESTS, phase.mul_f64(0.25))?;
            let warmup =
                closed_loop(connections(&hello, s.connections).await?, warm);
            let warmup = warmup.await?;
            let bounds = Bounds::new(MAX_REQUESTS, phase)?;
            let conns = connections(&hello, s.connections).await?;
            let cpu0 = (
                procfs::cpu_ticks(pid)?,
                procfs::cpu_ticks(std::process::id())?,
                rotel_pid.map(procfs::cpu_ticks).transpose()?.unwrap_or(0),
            );
            let mut stdin = child.0.stdin.take().context("no stdin")?;
            if profile.is_some() {
                stdin.write_all(b"profile start\n")?;
            }
            let saturation = closed_loop(conns, bounds).await?;
            if profile.is_some() {
                stdin.write_all(b"profile stop\n")?;
            }
            child.0.stdin = Some(stdin);
            let cpu1 = (
                procfs::cpu_ticks(pid)?,
                procfs::cpu_ticks(std::process::id())?,
                rotel_pid.map(procfs::cpu_ticks).transpose()?.unwrap_or(0),
            );
            let cpu = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1, cpu1.2 - cpu0.2);
            let before = stats(&addr)?;
            let conns = connections(&hello, s.connections).await?;
            let fixed_rate =
                open_loop(conns, Schedule::new(s.rate)?, bounds).await?;
            let after = stats(&addr)?;
            anyhow::Ok((warmup, saturation, cpu, before, fixed_rate, after))
        })?;
    let curve = rt.block_on(curve(&hello, s, saturation.throughput()))?;
    let rss_mib = memory.stop()?.iter().map(|m| m.rss_mib).collect();
    let status = procfs::status(pid)?;
    let hz = procfs::ticks_per_second()? as f64;
    let cpu_per_request_us = cpu.0 as f64 / hz * 1e6 / saturation.ok.max(1) as f64;
    let loadgen_cpu_share = cpu.1 as f64 / (cpu.0 + cpu.1).max(1) as f64;
    let rotel_cpu_per_request_us =
        cpu.2 as f64 / hz * 1e6 / saturation.ok.max(1) as f64;
    // How busy each side's core was: the target alone on its own; the
    // generator and, in the traced runs, rotel on the other.
    let seconds = saturation.elapsed.as_secs_f64().max(1e-9);
    let busy = Busy {
        target: cpu.0 as f64 / hz / seconds,
        generator: (cpu.1 + cpu.2) as f64 / hz / seconds,
    };
    let served = (after["alloc_bytes"] - before["alloc_bytes"]) as f64;
    let alloc_per_request = served / fixed_rate.sent().max(1) as f64;
    let large_per_request = (after["alloc_large_bytes"]
        - before["alloc_large_bytes"]) as f64
        / fixed_rate.sent().max(1) as f64;
    let allocs_per_request = (after["allocs"] - before["allocs"]) as f64
        / fixed_rate.sent().max(1) as f64;

    // Close stdin: the target stops, flushes its spans and prints its counts.
    drop(child.0.stdin.take());
    let final_line = read_final_line(&mut stdout)?;
    let exit = wait_with_limit(&mut child.0, Duration::from_secs(30))?;
    ensure!(exit.success(), "ch21-target exited with {exit}");
    let mut spans = parse_final(&final_line)?;
    if let Some(rotel) = rotel {
        spans.received = rotel.stop_when_received(spans.exported)?;
    }
    let on_curve: u64 = curve.iter().map(|p| p.report.ok).sum();
    let requests = 1 + warmup.ok + saturation.ok + fixed_rate.ok + on_curve;
    match mode.ratio {
        None => ensure!(
            spans.ended == 0,
            "untraced, yet {} spans ended",
            spans.ended
        ),
        Some(r) if r >= 1.0 => ensure!(
            spans.ended == requests,
            "{requests} requests answered but {} spans ended",
            spans.ended
        ),
        Some(_) => ensure!(spans.ended <= requests, "more spans than requests"),
    }
    let points = curve
        .iter()
        .map(|p| ("a point of the latency curve", &p.report));
    for (what, report) in [
        ("warm-up", &warmup),
        ("saturation", &saturation),
        ("fixed rate", &fixed_rate),
    ]
    .into_iter()
    .chain(points)
    {
        ensure!(
            report.all_answered(),
            "{what}: not every request was answered: {}; last error {:?}",
            report.summary(),
            report.last_error
        );
    }
    Ok(Run {
        mode,
        startup,
        saturation,
        fixed_rate,
        alloc_per_request,
        allocs_per_request,
        large_per_request,
        cpu_per_request_us,
        loadgen_cpu_share,
        rotel_cpu_per_request_us,
        busy,
        status,
        spans,
        curve,
        rss_mib,
    })
}

/// Reads the folded stacks each process wrote (`(name, file)`), and records
/// them together as the results group `group`: the chain's four services
/// as one flame graph, or the one-hop target alone.
fn record_profile(group: &str, files: &[(&str, &Path)]) -> Result<()> {
    let mut stacks = Vec::new();
    for (name, file) in files {
        let text = std::fs::read_to_string(file).with_context(|| {
            format!(
                "{name} wrote no profile to {} (built without the feature `profile`?)",
                file.display()
            )
        })?;
        stacks.extend(book_results::profile::parse_folded(&text)?);
    }
    let path = book_results::record(
        group,
        book_results::profile::measurements(group, &stacks),
    )?;
    println!("{group}: {}", path.display());
    Ok(())
}

/// The latency curve: an open loop at each of [`table::CURVE_PERCENTS`] of
/// `saturation` req/s, each a quarter of a phase long.
async fn curve(hello: &Target, s: &Settings, saturation: f64) -> Result<Vec<Point>> {
    let bounds =
        Bounds::new(MAX_REQUESTS, Duration::from_secs_f64(s.seconds / 4.0))?;
    let mut points = Vec::new();
    for percent in table::CURVE_PERCENTS {
        let rate = saturation * f64::from(percent) / 100.0;
        let conns = connections(hello, s.connections).await?;
        let report = open_loop(conns, Schedule::new(rate)?, bounds).await?;
        points.push(Point { percent, report });
    }
    Ok(points)
}

/// `GET /stats` of the target, as numbers.
fn stats(addr: &str) -> Result<std::collections::HashMap<String, u64>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET /stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .with_context(|| format!("bad /stats answer {text:?}"))?;
    let value: serde_json::Value = serde_json::from_str(body)?;
    let map = value.as_object().context("/stats is not an object")?;
    map.iter()
        .map(|(k, v)| Ok((k.clone(), v.as_u64().context("not a count")?)))
        .collect()
}

fn read_final_line(stdout: &mut BufReader<ChildStdout>) -> Result<String> {
    let mut rest = String::new();
    stdout.read_to_string(&mut rest)?;
    rest.lines()
        .find(|l| l.starts_with("final "))
        .map(str::to_owned)
        .with_context(|| format!("ch21-target printed no final line: {rest:?}"))
}

fn parse_final(line: &str) -> Result<Spans> {
    let field = |name: &str| -> Result<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name}= in {line:?}"))
    };
    Ok(Spans {
        ended: field("ended")?,
        exported: field("exported")?,
        failed: field("failed")?,
        dropped: field("dropped")?,
        rejected: 0,
        received: 0,
    })
}

fn wait_with_limit(
    child: &mut Child,
    limit: Duration,
) -> Result<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        ensure!(Instant::now() < deadline, "no exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// rotel, receiving OTLP/gRPC and logging one line per request with its span count.
struct Rotel {
    child: Killed,
    grpc: u16,
    log: PathBuf,
}

impl Rotel {
    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn start(agent: &Path, log: PathBuf) -> Result<Rotel> {
        let (grpc, http) = {
            let a = TcpListener::bind("127.0.0.1:0")?;
            let b = TcpListener::bind("127.0.0.1:0")?;
            (a.local_addr()?.port(), b.local_addr()?.port())
        };
        let file = std::fs::File::create(&log)?;
        let child = Command::new(agent)
            .args([
                "start",
                "--exporter",
                "blackhole",
                "--debug-log",
                "traces",
                "--debug-log-verbosity",
                "basic",
                "--otlp-grpc-endpoint",
                &format!("127.0.0.1:{grpc}"),
                "--otlp-http-endpoint",
                &format!("127.0.0.1:{http}"),
            ])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {}", agent.display()))?;
        let rotel = Rotel {
            child: Killed(child),
            grpc,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", grpc)).is_err() {
            ensure!(
                Instant::now() < deadline,
                "rotel did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(rotel)
    }

    /// Waits (up to 10 s) for the log to show `expected` spans, stops rotel
    /// with SIGTERM and returns the spans its log shows.
    fn stop_when_received(mut self, expected: u64) -> Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.received()? < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let pid = self.child.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        wait_with_limit(&mut self.child.0, Duration::from_secs(15))?;
        self.received()
    }

    fn received(&self) -> Result<u64> {
        let text = std::fs::read_to_string(&self.log)?;
        Ok(spans_in_basic_log(&text))
    }
}

/// The total of `spans=N` over rotel's basic debug log.
fn spans_in_basic_log(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.contains("Received traces"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("spans="))
                .and_then(|n| {
                    n.trim_end_matches(|c: char| !c.is_ascii_digit())
                        .parse::<u64>()
                        .ok()
                })
        })
        .sum()
}

/// One of the goals, measured.
#[derive(Debug)]
struct Goal {
    what: String,
    measured: String,
    met: bool,
}

/// The runs of `mode`, in the order they ran: one per repeat.
fn of_mode<'a>(runs: &'a [Run], mode: &str) -> Vec<&'a Run> {
    runs.iter().filter(|r| r.mode.name == mode).collect()
}

/// `f` of each run of `mode`.
fn values(runs: &[Run], mode: &str, f: impl Fn(&Run) -> f64) -> Vec<f64> {
    of_mode(runs, mode).into_iter().map(f).collect()
}

/// Each repeat's saturation throughput of `mode` over the same repeat's
/// untraced one.
fn vs_untraced(runs: &[Run], mode: &str) -> Vec<f64> {
    of_mode(runs, mode)
        .iter()
        .zip(of_mode(runs, "untraced"))
        .map(|(r, u)| r.saturation.throughput() / u.saturation.throughput())
        .collect()
}

/// `median (min-max)` of `values`, for the goals' text.
fn median_text(values: &[f64], decimals: usize) -> String {
    let m = median(values);
    if values.len() < 2 {
        return format!("{m:.decimals$}");
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{m:.decimals$} ({lo:.decimals$}-{hi:.decimals$})")
}

/// The goals, each judged on the median of the repeats.
fn goals(s: &Settings, runs: &[Run]) -> Vec<Goal> {
    let full = "traced_100pct";
    if of_mode(runs, "untraced").is_empty() || of_mode(runs, full).is_empty() {
        return Vec::new();
    }
    let ratios = vs_untraced(runs, full);
    let throughput = values(runs, full, |r| r.saturation.throughput());
    let uncounted: i64 = runs.iter().map(|r| r.spans.uncounted().abs()).sum();
    let dropped: u64 = of_mode(runs, full).iter().map(|r| r.spans.dropped).sum();
    let ended: u64 = of_mode(runs, full).iter().map(|r| r.spans.ended).sum();
    let dropped_pct = 100.0 * dropped as f64 / ended.max(1) as f64;
    let mut goals = vec![
        Goal {
            what: "traced at 100 % >= 0.9 x untraced throughput at saturation".into(),
            measured: format!("{} x", median_text(&ratios, 2)),
            met: median(&ratios) >= 0.9,
        },
        Goal {
            what: "traced at 100 %: <= 1 % of spans dropped (all repeats)".into(),
            measured: format!("{dropped_pct:.2} % ({dropped} of {ended})"),
            met: dropped_pct <= 1.0,
        },
        Goal {
            what: "zero uncounted span drops (all runs)".into(),
            measured: format!("{uncounted} uncounted ({dropped} counted as dropped)"),
            met: uncounted == 0,
        },
        Goal {
            what:
                "one traced service (100 %) >= 85000 req/s, 2 cores, generator on the same machine"
                    .into(),
            measured: format!("{} req/s", median_text(&throughput, 0)),
            met: median(&throughput) >= 85_000.0,
        },
    ];
    for mode in MODES {
        let p99 = values(runs, mode.name, |r| r.fixed_rate.latency_ms(0.99));
        if p99.is_empty() {
            continue;
        }
        goals.push(Goal {
            what: format!(
                "P99 <= 1 ms at {:.0} req/s, one hop, {}",
                s.rate, mode.name
            ),
            measured: format!("{} ms", median_text(&p99, 3)),
            met: median(&p99) <= 1.0,
        });
    }
    goals
}

fn goals_text(goals: &[Goal]) -> String {
    let width = goals.iter().map(|g| g.what.len()).max().unwrap_or(0);
    let measured = goals.iter().map(|g| g.measured.len()).max().unwrap_or(0);
    goals
        .iter()
        .map(|g| {
            format!(
                "{:width$}  {:>measured$}  {}\n",
                g.what,
                g.measured,
                if g.met { "met" } else { "MISSED" }
            )
        })
        .collect()
}

fn record(
    s: &Settings,
    load: f64,
    runs: &[Run],
    pinned: Measurement,
    chain: Option<&chain::Chain>,
) -> Result<()> {
    let mut goals = goals(s, runs);
    if let Some(c) = chain {
        let p50 = c.fixed_rate.latency_ms(0.5);
        let p99 = c.fixed_rate.latency_ms(0.99);
        goals.push(Goal {
            what: format!(
                "P50 <= 1 ms through the chain at {:.0} req/s, traced at 100 %",
                s.chain_rate
            ),
            measured: format!("{p50:.3} ms"),
            met: p50 <= 1.0,
        });
        goals.push(Goal {
            what: format!(
                "P99 <= 2.8 ms through the chain at {:.0} req/s, traced at 100 %",
                s.chain_rate
            ),
            measured: format!("{p99:.3} ms"),
            met: p99 <= 2.8,
        });
    }
    print!("{}", goals_text(&goals));
    let g = |id: &str| format!("ch21_perf/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("rate"), s.rate, "req/s"),
        Measurement::count(g("phase_seconds"), s.seconds, "s"),
        Measurement::count(g("connections"), s.connections as f64, "connections"),
    ];
    m.extend([
        Measurement::count(g("repeats"), s.repeats as f64, "repeats"),
        Measurement::count(
            g("traceparent_share"),
            100.0 / TRACEPARENT_EVERY.get() as f64,
            "%",
        ),
        pinned,
    ]);
    m.extend(table::per_mode(runs, g));
    let span_ns =
        table::criterion_ns(&book_results::workspace_root(), table::SPAN_BENCH);
    let rows = table::rows(runs, span_ns);
    print!("{}", table::text(&rows));
    m.extend(table::measurements(&rows, g));
    m.extend(table::curve(runs, g));
    m.extend(table::rss(runs, g));
    if let Some(c) = chain {
        let sp = &c.spans;
        m.extend([
            Measurement::count(g("chain_rate"), s.chain_rate, "req/s"),
            Measurement::count(g("chain_p50"), c.fixed_rate.latency_ms(0.5), "ms")
                .with_statistic("p50"),
            Measurement::count(g("chain_p99"), c.fixed_rate.latency_ms(0.99), "ms")
                .with_statistic("p99"),
            Measurement::count(
                g("chain_service_p99"),
                c.fixed_rate.service_ms(0.99),
                "ms",
            )
            .with_statistic("p99"),
            Measurement::count(g("chain_spans_ended"), sp.ended as f64, "spans"),
            Measurement::count(
                g("chain_spans_received"),
                sp.received as f64,
                "spans",
            ),
            Measurement::count(g("chain_spans_dropped"), sp.dropped as f64, "spans"),
            Measurement::count(
                g("chain_spans_uncounted"),
                sp.uncounted() as f64,
                "spans",
            ),
        ]);
        // CPU time per order in each process, and the four services' sum.
        for (name, us) in &c.cpu_per_request_us {
            m.push(Measurement::count(
                g(&format!("chain_cpu_{name}")),
                us * 1e3,
                "ns",
            ));
        }
        let services: f64 = c.cpu_per_request_us[..4].iter().map(|(_, us)| us).sum();
        m.push(Measurement::count(
            g("chain_cpu_services"),
            services * 1e3,
            "ns",
        ));
        // The scheduler's view: waiting for a core, and times on one.
        for (name, w) in &c.waiting_per_request {
            m.push(Measurement::count(
                g(&format!("chain_waiting_{name}")),
                w.waiting_us * 1e3,
                "ns",
            ));
            m.push(Measurement::count(
                g(&format!("chain_slices_{name}")),
                w.slices,
                "slices",
            ));
        }
        let waiting: f64 = c.waiting_per_request[..4]
            .iter()
            .map(|(_, w)| w.waiting_us)
            .sum();
        m.push(Measurement::count(
            g("chain_waiting_services"),
            waiting * 1e3,
            "ns",
        ));
    }
    m.push(
        Measurement::count(
            g("goals_met"),
            goals.iter().filter(|x| x.met).count() as f64,
            "goals",
        )
        .with_text(goals_text(&goals)),
    );
    let path = book_results::record("ch21_perf", m)?;
    println!("recorded {}", path.display());
    Ok(())
}

/// Correctness, not speed: every span accounted for, the collector got
/// exactly what the target counted as exported.
fn check(runs: &[Run]) -> Result<()> {
    for r in runs {
        let sp = &r.spans;
        ensure!(
            sp.uncounted() == 0,
            "{}: {} spans ended, {} received, {} failed, {} dropped: {} uncounted",
            r.mode.name,
            sp.ended,
            sp.received,
            sp.failed,
            sp.dropped,
            sp.uncounted()
        );
        ensure!(
            sp.received == sp.exported,
            "{}: the collector received {} spans, the target counted {} exported",
            r.mode.name,
            sp.received,
            sp.exported
        );
    }
    println!("one hop: every request answered, every span accounted for");
    Ok(())
}

/// Chapter 19's fault runs: every case, the table, the check, the record.
fn fault_runs(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    load: f64,
) -> Result<()> {
    // Repeat r runs the cases starting from case r, so that no case always
    // runs first, last or right after the same neighbour.
    let n = faults::CASES.len();
    let mut by_case: Vec<Vec<faults::FaultRun>> =
        (0..n).map(|_| Vec::new()).collect();
    for repeat in 0..s.repeats {
        for k in 0..n {
            let i = (k + repeat) % n;
            let case = &faults::CASES[i];
            let run = faults::run(rt, s, receiver, case)
                .with_context(|| format!("fault run {}", case.name))?;
            let (sp, lr) = (&run.spans, &run.logs);
            println!(
                "{} (repeat {}): {}; spans ended {} received {} failed {} dropped {} \
                 rejected {}; log records ended {} received {}",
                case.name,
                repeat + 1,
                run.load.summary(),
                sp.ended,
                sp.received,
                sp.failed,
                sp.dropped,
                sp.rejected,
                lr.ended,
                lr.received
            );
            by_case[i].push(run);
        }
    }
    let all: Vec<&faults::FaultRun> = by_case.iter().flatten().collect();
    faults::check(all.iter().copied())?;
    // Each repeat's ratio is against the healthy run of the same repeat.
    let ratios: Vec<Vec<f64>> = by_case
        .iter()
        .map(|runs| {
            runs.iter()
                .zip(&by_case[0])
                .map(|(r, h)| r.load.throughput() / h.load.throughput())
                .collect()
        })
        .collect();
    // The run shown for each case: the one with the median ratio.
    let shown: Vec<&faults::FaultRun> = by_case
        .iter()
        .zip(&ratios)
        .map(|(runs, ratio)| &runs[median_index(ratio)])
        .collect();
    let table = faults::table(shown.iter().copied());
    print!("{table}");
    let g = |id: &str| format!("collector_faults/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("chain_rate"), s.chain_rate, "req/s"),
        Measurement::count(g("phase_seconds"), s.seconds, "s"),
    ];
    m.push(Measurement::count(
        g("repeats"),
        s.repeats as f64,
        "repeats",
    ));
    for ((r, runs), ratio) in shown.iter().zip(&by_case).zip(&ratios) {
        let id = |what: &str| g(&format!("{}_{what}", r.case.name));
        let sp = &r.spans;
        let p99s: Vec<f64> = runs.iter().map(|r| r.load.latency_ms(0.99)).collect();
        let thr: Vec<f64> = runs.iter().map(|r| r.load.throughput()).collect();
        m.extend([
            spread(
                Measurement::count(id("throughput"), median(&thr), "req/s"),
                &thr,
            )
            .with_statistic("median"),
            spread(
                Measurement::count(id("vs_healthy"), median(ratio), "×"),
                ratio,
            )
            .with_statistic("median ratio"),
            spread(Measurement::count(id("p99"), median(&p99s), "ms"), &p99s)
                .with_statistic("median p99"),
            Measurement::count(id("faulted_spans"), r.faulted_spans as f64, "spans"),
            Measurement::count(
                id("logs_lost_as_exported"),
                r.logs_lost_as_exported() as f64,
                "log records",
            ),
            Measurement::count(id("peak_rss"), r.peak_rss_mib, "MiB")
                .with_statistic("max"),
        ]);
        m.extend(sp.measurements(id));
        m.extend(r.logs.measurements_of("logs", "log records", id));
    }
    m.push(
        Measurement::count(
            g("accounted"),
            all.iter().filter(|r| r.accounted()).count() as f64,
            "runs",
        )
        .with_text(table),
    );
    let path = book_results::record("collector_faults", m)?;
    println!("recorded {}", path.display());
    slow_peer_runs(rt, s, receiver, load)
}

/// The index of the median of `values` (the lower one of an even count).
fn median_index(values: &[f64]) -> usize {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    order[(values.len() - 1) / 2]
}

/// `m` with the smallest and largest of `values` as its range.
fn spread(mut m: Measurement, values: &[f64]) -> Measurement {
    m.lower = values.iter().copied().reduce(f64::min);
    m.upper = values.iter().copied().reduce(f64::max);
    m
}

/// Chapter 19's slow peer: every case, the table, the checks, the record.
fn slow_peer_runs(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    load: f64,
) -> Result<()> {
    // An eighth of the chain rate, over 128 connections: without a budget a
    // slow peer holds each order for three timeouts and their backoffs
    // (about 200 ms), so 250 orders/s keep some 50 in flight, within the
    // connections and the order service's 64 calls to user. The run is
    // about attempts, not saturation.
    let settings = Settings {
        chain_rate: s.chain_rate / 8.0,
        connections: 128,
        rotel: s.rotel.clone(),
        logs: s.logs.clone(),
        faults: None,
        soak: None,
        ..*s
    };
    let mut runs = Vec::new();
    for case in slow_peer::SLOW_CASES {
        let run = slow_peer::run(rt, &settings, receiver, case)
            .with_context(|| format!("slow peer run {}", case.name))?;
        println!("{}: {}", case.name, run.load.summary());
        runs.push(run);
    }
    print!("{}", slow_peer::table(&runs));
    runs.iter().try_for_each(slow_peer::SlowRun::check)?;
    let g = |id: &str| format!("slow_peer/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("rate"), settings.chain_rate, "req/s"),
        Measurement::count(g("phase_seconds"), settings.seconds, "s"),
    ];
    for r in &runs {
        let id = |what: &str| g(&format!("{}_{what}", r.case.name));
        let ok = r.load.ok as f64 / r.load.sent().max(1) as f64;
        m.extend([
            Measurement::count(id("orders"), r.orders() as f64, "orders"),
            Measurement::count(id("ok_pct"), ok * 100.0, "%"),
            Measurement::count(id("p99"), r.load.latency_ms(0.99), "ms")
                .with_statistic("p99"),
            Measurement::count(
                id("user_attempts"),
                r.user_requests as f64,
                "requests",
            ),
            Measurement::count(id("per_order"), r.amplification(), "×")
                .with_statistic("ratio"),
        ]);
        m.extend(r.spans.measurements(id));
    }
    let path = book_results::record("slow_peer", m)?;
    println!("recorded {}", path.display());
    Ok(())
}

/// The soak: the healthy case of the faults, long, with the services'
/// memory and descriptors sampled every second (results group `soak`).
fn soak_run(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    load: f64,
) -> Result<()> {
    let sampler = soak::Sampler::default();
    let healthy = &faults::CASES[0];
    let run = faults::run_watched(rt, s, receiver, healthy, Some(&sampler))?;
    let samples = sampler.stop()?;
    let trend = soak::Trend::of_second_half(&samples)?;
    let flat = if trend.flat() { "met" } else { "MISSED" };
    let (sp, lr) = (&run.spans, &run.logs);
    println!(
        "soak at {} req/s for {} s: {}; spans ended {} received {}; log records \
         ended {} received {}",
        s.chain_rate,
        s.seconds,
        run.load.summary(),
        sp.ended,
        sp.received,
        lr.ended,
        lr.received
    );
    println!(
        "second half: resident memory {:.1} MiB, slope {:+.3} MiB/min ({:+.1} % \
         an hour; flat, under {:.0} %: {flat}); descriptors {}..{}",
        trend.mean_mib,
        trend.mib_per_minute,
        trend.growth_per_hour() * 100.0,
        soak::FLAT_PER_HOUR * 100.0,
        trend.fds.0,
        trend.fds.1
    );
    faults::check(std::slice::from_ref(&run))?;
    let g = |id: &str| format!("soak/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("rate"), s.chain_rate, "req/s"),
        Measurement::count(g("seconds"), s.seconds, "s"),
        Measurement::count(g("throughput"), run.load.throughput(), "req/s"),
        Measurement::count(g("p99"), run.load.latency_ms(0.99), "ms")
            .with_statistic("p99"),
        Measurement::count(g("rss_mean"), trend.mean_mib, "MiB"),
        Measurement::count(g("rss_slope"), trend.mib_per_minute, "MiB/min")
            .with_text(flat),
        Measurement::count(g("rss_per_hour"), trend.growth_per_hour() * 100.0, "%"),
        Measurement::count(g("fds_min"), trend.fds.0 as f64, "descriptors"),
        Measurement::count(g("fds_max"), trend.fds.1 as f64, "descriptors"),
    ];
    m.extend(sp.measurements(g));
    m.extend(lr.measurements_of("logs", "log records", g));
    // Sample k was taken k seconds in (the sampler keeps to the second).
    for (t, sample) in samples.iter().enumerate() {
        m.push(Measurement::count(
            g(&format!("rss/t{t:04}")),
            sample.rss_mib,
            "MiB",
        ));
        m.push(Measurement::count(
            g(&format!("fds/t{t:04}")),
            sample.fds as f64,
            "descriptors",
        ));
    }
    let path = book_results::record("soak", m)?;
    println!("recorded {}", path.display());
    Ok(())
}

#[path = "ch21_perf/alloc_profile.rs"]
mod alloc_profile;
#[path = "ch21_perf/chain.rs"]
mod chain;
#[path = "ch21_perf/faults.rs"]
mod faults;
#[path = "ch21_perf/pinning.rs"]
mod pinning;
#[path = "ch21_perf/slow_peer.rs"]
mod slow_peer;
#[path = "ch21_perf/soak.rs"]
mod soak;
#[path = "ch21_perf/table.rs"]
mod table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_final_line_and_the_collector_log() {
        let s = parse_final("final ended=10 exported=7 failed=1 dropped=2").unwrap();
        assert_eq!((s.ended, s.exported, s.failed, s.dropped), (10, 7, 1, 2));
        assert!(parse_final("final ended=1").is_err());
        let log = "x Received traces spans=3\nother\ny Received traces resource_spans=1 spans=4\n";
        assert_eq!(spans_in_basic_log(log), 7);
    }

    #[test]
    fn uncounted_is_what_no_number_explains() {
        let s = Spans {
            ended: 10,
            exported: 7,
            failed: 1,
            dropped: 1,
            rejected: 0,
            received: 7,
        };
        assert_eq!(s.uncounted(), 1);
    }
}
