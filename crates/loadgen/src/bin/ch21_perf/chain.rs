//! The four services of this part (`otlp-csp-services`: gateway → order →
//! user, payment), each its own process, traced at 100 % (their default
//! sampler) and exporting traces, metrics and logs over OTLP/gRPC to rotel
//! (as deployed: a service whose logs go nowhere counts them as dropped),
//! loaded through the gateway by the open loop at `--chain-rate`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use bytes::Bytes;
use otlp_csp_loadgen::{
    Bounds, Connection as _, HttpConnection, MAX_REQUESTS, Outcome, Report,
    Schedule, Target, open_loop, procfs,
};

use book_results::Measurement;

use super::{Killed, Rotel, Settings, Spans, median, spread, wait_with_limit};

/// What the chain run measured.
#[derive(Debug)]
pub struct Chain {
    pub fixed_rate: Report,
    pub spans: Spans,
    /// CPU time (user + system) per answered order, µs, in each service
    /// process and the collector: gateway, order, user, payment, rotel.
    pub cpu_per_request_us: Vec<(&'static str, f64)>,
    /// The scheduler's view per answered order, in the same processes:
    /// µs its threads waited on a run queue for a core, and times a
    /// thread was put on one.
    pub waiting_per_request: Vec<(&'static str, Waiting)>,
}

/// Per answered order, from `/proc/PID/task/*/schedstat`.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    pub waiting_us: f64,
    pub slices: f64,
}

impl Chain {
    /// Every request answered, every span of the four processes accounted for.
    pub fn check(&self) -> Result<()> {
        ensure!(
            self.fixed_rate.all_answered(),
            "chain: not every request was answered: {}; last error {:?}",
            self.fixed_rate.summary(),
            self.fixed_rate.last_error
        );
        let sp = &self.spans;
        ensure!(
            sp.uncounted() == 0 && sp.received == sp.exported,
            "chain: {} spans ended, {} exported, {} received, {} failed, {} dropped",
            sp.ended,
            sp.exported,
            sp.received,
            sp.failed,
            sp.dropped
        );
        println!("chain: every request answered, every span accounted for");
        Ok(())
    }
}

/// One service process, its stderr collected by a thread.
struct Service {
    name: &'static str,
    child: Killed,
    addr: String,
    stderr: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

fn start(
    dir: &Path,
    name: &'static str,
    grpc: u16,
    peers: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Result<Service> {
    let mut cmd = Command::new(dir.join(name));
    cmd.env("LISTEN_ADDR", "127.0.0.1:0")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{grpc}"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        // The services log one record per request. With the default log
        // queue (2048) a busy machine can drop some, and a service that
        // dropped only logs does not print its span count, which this run
        // checks; a deeper log queue keeps that check possible. Spans keep
        // the default queue.
        .env("OTEL_BLRP_MAX_QUEUE_SIZE", "65536")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (var, value) in peers.iter().chain(env) {
        cmd.env(var, value);
    }
    let mut child = Killed(
        cmd.spawn()
            .with_context(|| format!("starting {}", dir.join(name).display()))?,
    );
    let mut lines = BufReader::new(child.0.stderr.take().context("no stderr")?);
    let prefix = format!("{name}: listening on ");
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        if lines.read_line(&mut line)? == 0 {
            bail!("{name} exited before listening: {seen}");
        }
        seen.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix(&prefix) {
            break rest
                .split_whitespace()
                .next()
                .context("no address")?
                .to_owned();
        }
    };
    let stderr = Arc::new(Mutex::new(seen));
    let reader = {
        let stderr = stderr.clone();
        std::thread::spawn(move || drain(lines, &stderr))
    };
    Ok(Service {
        name,
        child,
        addr,
        stderr,
        reader,
    })
}

fn drain(mut lines: BufReader<ChildStderr>, into: &Mutex<String>) {
    let mut line = String::new();
    while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
        into.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_str(&line);
        line.clear();
    }
}

impl Service {
    /// SIGTERM, wait, and read the span and log record counts the service
    /// printed.
    fn stop(mut self) -> Result<(Spans, Spans)> {
        let pid = self.child.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        wait_with_limit(&mut self.child.0, Duration::from_secs(30))?;
        let _ = self.reader.join();
        let text = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok((
            spans_from_stderr(self.name, &text)?,
            logs_from_stderr(self.name, &text)?,
        ))
    }
}

/// The counts in a service's last words: `NAME: N span(s) exported; exit 0`
/// when nothing was lost, else `NAME: spans ended E exported X failed F
/// dropped D; exit 1` (or, from older builds, the set-up's error `L of E
/// spans not exported (F failed, D dropped)`).
fn spans_from_stderr(name: &str, text: &str) -> Result<Spans> {
    let ok = format!("{name}: ");
    for line in text.lines().rev() {
        if let Some(rest) = line.strip_prefix(&ok)
            && let Some(counts) = rest.strip_prefix("spans ended ")
        {
            return four_counts(counts);
        }
        if let Some(rest) = line.strip_prefix(&ok)
            && let Some(n) = rest.strip_suffix(" span(s) exported; exit 0")
        {
            let n: u64 = n.trim().parse()?;
            return Ok(Spans {
                ended: n,
                exported: n,
                ..Spans::default()
            });
        }
        if let Some(i) = line.find(" spans not exported (") {
            let words: Vec<&str> = line[..i].split_whitespace().collect();
            let ended: u64 = words.last().context("no span count")?.parse()?;
            let tail = &line[i + " spans not exported (".len()..];
            let num = |after: &str| -> Result<u64> {
                tail.split(after)
                    .next()
                    .and_then(|s| s.rsplit(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|s| s.parse().ok())
                    .with_context(|| format!("no {after} count in {line:?}"))
            };
            let failed = num(" failed")?;
            let dropped = num(" dropped")?;
            return Ok(Spans {
                ended,
                exported: ended - failed - dropped,
                failed,
                dropped,
                rejected: 0,
                received: 0,
            });
        }
    }
    bail!("{name} printed no span counts:\n{text}")
}

/// `E exported X failed F dropped D[; ...]` (the counts after `ended`).
fn four_counts(counts: &str) -> Result<Spans> {
    let words: Vec<&str> = counts.split([' ', ';']).collect();
    let after = |word: &str| -> Result<u64> {
        let i = words.iter().position(|w| *w == word);
        i.and_then(|i| words.get(i + 1)?.parse().ok())
            .with_context(|| format!("no {word} count in {counts:?}"))
    };
    Ok(Spans {
        ended: words
            .first()
            .and_then(|w| w.parse().ok())
            .with_context(|| format!("no ended count in {counts:?}"))?,
        exported: after("exported")?,
        failed: after("failed")?,
        dropped: after("dropped")?,
        // Builds before partial successes were counted do not print it.
        rejected: after("rejected").unwrap_or(0),
        received: 0,
    })
}

/// The log record counts a service prints after its telemetry shut down:
/// `NAME: log records ended E exported X failed F dropped D` (the same five
/// counts as for spans; `received` is filled in from the collector).
fn logs_from_stderr(name: &str, text: &str) -> Result<Spans> {
    let prefix = format!("{name}: log records ended ");
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .with_context(|| format!("{name} printed no log record counts:\n{text}"))?;
    four_counts(line)
}

/// The four service processes, started against one collector.
pub struct Four {
    services: [Service; 4],
    gateway: String,
}

impl Four {
    /// Starts user and payment, then order, then the gateway (their release
    /// binaries beside this runner), exporting to OTLP/gRPC port `grpc`,
    /// with `env` set for every service.
    pub fn start_with(grpc: u16, env: &[(&str, &str)]) -> Result<Four> {
        Four::start_each(grpc, env, &[])
    }

    /// [`Four::start_with`], and `each` adds variables for one service:
    /// `(service, variables)`.
    pub fn start_each(
        grpc: u16,
        env: &[(&str, &str)],
        each: &[(&str, &[(&str, &str)])],
    ) -> Result<Four> {
        let env_of = |name: &str| -> Vec<(&str, &str)> {
            let extra = each.iter().filter(|(s, _)| *s == name);
            env.iter()
                .copied()
                .chain(extra.flat_map(|(_, v)| v.iter().copied()))
                .collect()
        };
        let dir = std::env::current_exe()?
            .parent()
            .context("the runner has no directory")?
            .to_owned();
        for bin in ["gateway", "order", "user", "payment"] {
            ensure!(
                dir.join(bin).is_file(),
                "{} not found: build otlp-csp-services' binaries (release) first",
                dir.join(bin).display()
            );
        }
        let user = start(&dir, "user", grpc, &[], &env_of("user"))?;
        let payment = start(&dir, "payment", grpc, &[], &env_of("payment"))?;
        let user_url = format!("http://{}", user.addr);
        let payment_url = format!("http://{}", payment.addr);
        let peers = [("USER_URL", &*user_url), ("PAYMENT_URL", &*payment_url)];
        let order = start(&dir, "order", grpc, &peers, &env_of("order"))?;
        let order_url = format!("http://{}", order.addr);
        let gateway = start(
            &dir,
            "gateway",
            grpc,
            &[("ORDER_URL", &order_url)],
            &env_of("gateway"),
        )?;
        let addr = gateway.addr.clone();
        Ok(Four {
            services: [gateway, order, user, payment],
            gateway: addr,
        })
    }

    /// Whether every service wrote `text` to its standard error so far.
    pub fn all_said(&self, text: &str) -> bool {
        self.services.iter().all(|s| {
            s.stderr
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(text)
        })
    }

    /// The process ids, gateway first.
    pub fn pids(&self) -> Vec<u32> {
        self.services.iter().map(|s| s.child.0.id()).collect()
    }

    /// Loads the gateway with orders at `rate` for `phase` (open loop,
    /// `connections` connections) after one probe order, which must succeed.
    pub fn load(
        &self,
        rt: &tokio::runtime::Runtime,
        rate: f64,
        phase: Duration,
        connections: usize,
    ) -> Result<Report> {
        self.load_probed(rt, rate, phase, connections, true)
    }

    /// [`Four::load`]; with `probe_must_succeed` false the probe order only
    /// has to be answered (a run whose orders are meant to fail).
    pub fn load_probed(
        &self,
        rt: &tokio::runtime::Runtime,
        rate: f64,
        phase: Duration,
        connections: usize,
        probe_must_succeed: bool,
    ) -> Result<Report> {
        let target = Target::parse(&format!("http://{}/api/orders", self.gateway))?;
        let body = Bytes::from_static(br#"{"user":"ada","amount_cents":1250}"#);
        rt.block_on(async {
            let first =
                HttpConnection::open_post(&target, body.clone(), "application/json")
                    .await?;
            let mut probe =
                HttpConnection::open_post(&target, body, "application/json").await?;
            let outcome = probe.call().await;
            let answered = matches!(outcome, Outcome::Ok | Outcome::Status(_));
            ensure!(
                outcome == Outcome::Ok || (answered && !probe_must_succeed),
                "the gateway answered the first order with {outcome:?}"
            );
            let conns = first.open_like(&target, connections).await?;
            let bounds = Bounds::new(MAX_REQUESTS, phase)?;
            let started = Instant::now();
            let r = open_loop(conns, Schedule::new(rate)?, bounds).await?;
            ensure!(started.elapsed() < phase * 2 + Duration::from_secs(15));
            anyhow::Ok(r)
        })
    }

    /// SIGTERM to each, front to back; the span counts they reported.
    pub fn stop(self) -> Result<Spans> {
        Ok(self.stop_counting_logs()?.0)
    }

    /// [`Four::stop`], with the log record counts summed the same way.
    pub fn stop_counting_logs(self) -> Result<(Spans, Spans)> {
        let (mut spans, mut logs) = (Spans::default(), Spans::default());
        for (_, sp, lr) in self.stop_each()? {
            spans.add(&sp);
            logs.add(&lr);
        }
        Ok((spans, logs))
    }

    /// SIGTERM to each, front to back; each one's name, span and log
    /// record counts.
    pub fn stop_each(self) -> Result<Vec<(&'static str, Spans, Spans)>> {
        self.services
            .into_iter()
            .map(|service| {
                let name = service.name;
                let (sp, lr) = service.stop()?;
                Ok((name, sp, lr))
            })
            .collect()
    }
}

/// Starts rotel and the four services, loads the gateway at the chain rate
/// for one phase, stops everything front to back and counts the spans.
/// With `--profile` each service samples its own stacks, and the four
/// profiles are recorded as one, `profile_ch21_chain` (each service's name
/// is the root of its stacks, so widths compare CPU time across processes).
pub fn run(rt: &tokio::runtime::Runtime, s: &Settings) -> Result<Chain> {
    let files: Vec<(&str, String)> = SERVICES
        .iter()
        .map(|name| {
            let file = s.logs.join(format!("ch21-profile-{name}.folded"));
            (*name, file.display().to_string())
        })
        .collect();
    let each: Vec<(&str, [(&str, &str); 1])> = files
        .iter()
        .map(|(name, file)| (*name, [("OTLP_CSP_PROFILE", file.as_str())]))
        .collect();
    let each: Vec<(&str, &[(&str, &str)])> = each
        .iter()
        .filter(|_| s.profile)
        .map(|(name, vars)| (*name, &vars[..]))
        .collect();
    let chain = run_with(rt, s, &[], &each)?;
    if s.profile {
        let files: Vec<(&str, &Path)> = files
            .iter()
            .map(|(name, file)| (*name, Path::new(file.as_str())))
            .collect();
        super::record_profile("profile_ch21_chain", &files)?;
    }
    Ok(chain)
}

/// The four services, in the order [`Four::pids`] lists them.
const SERVICES: [&str; 4] = ["gateway", "order", "user", "payment"];

/// [`run`] with `env` for every service and `each` for one.
fn run_with(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    env: &[(&str, &str)],
    each: &[(&str, &[(&str, &str)])],
) -> Result<Chain> {
    let rotel = Rotel::start(&s.rotel, s.logs.join("ch21-rotel-chain.log"))?;
    let four = Four::start_each(rotel.grpc, env, each)?;
    // A build without the feature `allocators` ignores the variable: a
    // comparison of the same allocator with itself is refused.
    if let Some((_, name)) = env.iter().find(|(v, _)| *v == "OTLP_CSP_ALLOCATOR") {
        ensure!(
            four.all_said(&format!("allocator {name}")),
            "the services do not run {name}: build otlp-csp-services with \
             --features allocators"
        );
    }
    let phase = Duration::from_secs_f64(s.seconds);
    // Where the CPU goes: each process's CPU time over the load phase
    // (the probe order is in it too), divided by the orders answered.
    let names = SERVICES.into_iter().chain(["rotel"]);
    let pids: Vec<u32> = four.pids().into_iter().chain([rotel.pid()]).collect();
    let ticks = || -> Result<Vec<u64>> {
        pids.iter().map(|&pid| procfs::cpu_ticks(pid)).collect()
    };
    // And the time their threads were ready to run but had no core.
    let sched = || -> Result<Vec<procfs::Sched>> {
        pids.iter().map(|&pid| procfs::sched(pid)).collect()
    };
    let (before, sched_before) = (ticks()?, sched()?);
    let fixed_rate = four.load(rt, s.chain_rate, phase, s.connections)?;
    let (after, sched_after) = (ticks()?, sched()?);
    let hz = procfs::ticks_per_second()? as f64;
    let answered = fixed_rate.ok.max(1) as f64;
    let cpu_per_request_us = names
        .clone()
        .zip(before.iter().zip(&after))
        .map(|(name, (b, a))| (name, (a - b) as f64 / hz * 1e6 / answered))
        .collect();
    let waiting_per_request = names
        .zip(sched_before.iter().zip(&sched_after))
        .map(|(name, (b, a))| {
            let d = a.since(b);
            let waiting_us = d.waiting_ns as f64 / 1e3 / answered;
            (
                name,
                Waiting {
                    waiting_us,
                    slices: d.slices as f64 / answered,
                },
            )
        })
        .collect();
    let mut spans = four.stop()?;
    spans.received = rotel.stop_when_received(spans.exported)?;
    Ok(Chain {
        fixed_rate,
        spans,
        cpu_per_request_us,
        waiting_per_request,
    })
}

/// The settings `--tuning` compares: each a name and the variables every
/// service gets. `default` is the services as deployed: a multi-thread
/// runtime with a worker per core, and the system allocator.
pub const TUNINGS: [(&str, &[(&str, &str)]); 6] = [
    ("default", &[]),
    // The same services with no telemetry at all: what the rest costs.
    (
        "no_telemetry",
        &[
            ("OTEL_TRACES_SAMPLER", "always_off"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    ),
    ("one_worker", &[("WORKER_THREADS", "1")]),
    ("current_thread", &[("RUNTIME_FLAVOR", "current_thread")]),
    ("mimalloc", &[("OTLP_CSP_ALLOCATOR", "mimalloc")]),
    (
        "current_thread_mimalloc",
        &[
            ("RUNTIME_FLAVOR", "current_thread"),
            ("OTLP_CSP_ALLOCATOR", "mimalloc"),
        ],
    ),
];

/// What one tuning run measured.
struct Tuned {
    cpu_us: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `--tuning`: the chain under each of [`TUNINGS`], interleaved
/// (`--repeats` rounds of all of them), every run checked like the chain
/// run; records the results group `ch21_tuning`: per setting the CPU time
/// of the four services per order, P50 and P99 (medians, min–max), and the
/// CPU ratio to `default` taken within each round.
pub fn tuning(rt: &tokio::runtime::Runtime, s: &Settings, load: f64) -> Result<()> {
    let mut runs: Vec<Vec<Tuned>> = TUNINGS.iter().map(|_| Vec::new()).collect();
    for round in 1..=s.repeats {
        for (i, (name, env)) in TUNINGS.iter().enumerate() {
            let c = run_with(rt, s, env, &[])
                .with_context(|| format!("tuning {name}, round {round}"))?;
            c.check()?;
            let cpu_us: f64 =
                c.cpu_per_request_us[..4].iter().map(|(_, us)| us).sum();
            let t = Tuned {
                cpu_us,
                p50_ms: c.fixed_rate.latency_ms(0.5),
                p99_ms: c.fixed_rate.latency_ms(0.99),
            };
            println!(
                "round {round} {name:<24} CPU {:>5.0} µs/order  P50 {:>8.3} ms  P99 {:>8.3} ms",
                t.cpu_us, t.p50_ms, t.p99_ms
            );
            runs[i].push(t);
        }
    }
    let g = |id: &str| format!("ch21_tuning/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("rounds"), s.repeats as f64, "rounds"),
        Measurement::count(g("rate"), s.chain_rate, "req/s"),
        Measurement::count(g("phase_seconds"), s.seconds, "s"),
    ];
    let mut verdicts = String::new();
    for ((name, _), tuned) in TUNINGS.iter().zip(&runs) {
        let field = |f: fn(&Tuned) -> f64| tuned.iter().map(f).collect::<Vec<f64>>();
        let stat = |id: &str, values: Vec<f64>, unit: &str| {
            let m = Measurement::count(
                g(&format!("{name}_{id}")),
                median(&values),
                unit,
            )
            .with_statistic("median");
            spread(m, &values)
        };
        // Within a round, against that round's default run.
        let ratios: Vec<f64> = tuned
            .iter()
            .zip(&runs[0])
            .map(|(t, d)| t.cpu_us / d.cpu_us)
            .collect();
        let (p50, p99) =
            (median(&field(|t| t.p50_ms)), median(&field(|t| t.p99_ms)));
        m.extend([
            stat("cpu_per_order", field(|t| t.cpu_us * 1e3), "ns"),
            stat("p50", field(|t| t.p50_ms * 1e6), "ns"),
            stat("p99", field(|t| t.p99_ms * 1e6), "ns"),
            stat("cpu_vs_default", ratios, "x"),
        ]);
        verdicts.push_str(&format!(
            "{name:<24} P50 {p50:>8.3} ms (goal 1 ms: {})  P99 {p99:>8.3} ms (goal 2.8 ms: {})\n",
            if p50 <= 1.0 { "met" } else { "MISSED" },
            if p99 <= 2.8 { "met" } else { "MISSED" },
        ));
    }
    print!("{verdicts}");
    m.push(
        Measurement::count(g("verdicts"), s.chain_rate, "req/s").with_text(verdicts),
    );
    let path = book_results::record("ch21_tuning", m)?;
    println!("recorded {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_kinds_of_last_words() {
        let ok =
            "gateway: flushing telemetry\ngateway: 12 span(s) exported; exit 0\n";
        let s = spans_from_stderr("gateway", ok).unwrap();
        assert_eq!((s.ended, s.exported), (12, 12));
        let lost = "order: telemetry shutdown failed: 7 of 100 spans not exported \
                    (2 failed, 5 dropped); last error: x\n";
        let s = spans_from_stderr("order", lost).unwrap();
        assert_eq!((s.ended, s.exported, s.failed, s.dropped), (100, 93, 2, 5));
        assert!(spans_from_stderr("user", "user: drained\n").is_err());
        let logs_lost = "payment: telemetry shutdown failed: 3 of 9 log records not \
                         exported (3 failed, 0 dropped); last error: x\n\
                         payment: spans ended 40 exported 38 failed 2 dropped 0; exit 1\n";
        let s = spans_from_stderr("payment", logs_lost).unwrap();
        assert_eq!((s.ended, s.exported, s.failed, s.dropped), (40, 38, 2, 0));
        assert!(logs_from_stderr("payment", logs_lost).is_err());
        let logs = "user: log records ended 9 exported 6 failed 1 dropped 2\n\
                    user: 3 span(s) exported; exit 0\n";
        let l = logs_from_stderr("user", logs).unwrap();
        assert_eq!((l.ended, l.exported, l.failed, l.dropped), (9, 6, 1, 2));
        let rejected = "order: spans ended 10 exported 6 failed 0 dropped 0 \
                        rejected 4; exit 1\n";
        let s = spans_from_stderr("order", rejected).unwrap();
        assert_eq!((s.exported, s.rejected, s.uncounted()), (6, 4, 6));
    }
}
