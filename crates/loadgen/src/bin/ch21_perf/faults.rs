//! A collector that misbehaves while the four services run at the chain
//! rate: the book's `otlp-receiver` plays the collector and answers part of
//! the export requests badly (its `--fault` plan). Each run measures what
//! the services' clients see (throughput, P99) and accounts for every span:
//! the spans the services ended equal the spans the receiver kept plus the
//! spans the services counted as failed or dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use otlp_csp_loadgen::{Report, procfs};

use super::chain::Four;
use super::soak::Sampler;
use super::{Killed, Settings, Spans, wait_with_limit};

/// One run: its name in the results, the receiver's `--fault` plan, and
/// extra environment for the services.
pub struct Case {
    pub name: &'static str,
    pub fault: Option<&'static str>,
    pub env: &'static [(&'static str, &'static str)],
    /// Export over OTLP/HTTP (protobuf) instead of gRPC.
    pub http: bool,
    /// The log exporter (opentelemetry-otlp's) takes the faulted answers for
    /// success: their log records are counted exported and never arrive
    /// (only the receiver counts them). The book's span exporter counts
    /// what a partial success rejects.
    pub logs_lost_as_exported: bool,
    /// What the OTLP specification and the exporter make of it, for the table.
    pub expect: &'static str,
    /// The collector is down (its process stopped, its ports closed) from a
    /// quarter to three quarters of the run, then back on the same ports.
    pub outage: bool,
}

/// The runs, healthy first: each fault hits half the export requests (a
/// quarter for the stall), so retries have a chance and losses show.
pub const CASES: &[Case] = &[
    Case {
        name: "healthy",
        fault: None,
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "nothing lost",
        outage: false,
    },
    Case {
        name: "unavailable",
        fault: Some("unavailable@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "retried after backoff",
        outage: false,
    },
    Case {
        name: "unavailable_retry_info",
        fault: Some("unavailable:500@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "retried after the 500 ms asked",
        outage: false,
    },
    Case {
        name: "throttled_retry_info",
        fault: Some("throttle:500@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "retried after the 500 ms asked",
        outage: false,
    },
    Case {
        name: "throttled_no_retry_info",
        fault: Some("throttle@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "not retried: counted failed",
        outage: false,
    },
    Case {
        name: "stalled",
        fault: Some("stall:3000@1/4"),
        env: &[("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")],
        http: false,
        logs_lost_as_exported: false,
        expect: "timed out at 1 s: counted failed",
        outage: false,
    },
    Case {
        name: "stream_reset",
        fault: Some("reset@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "INTERNAL, not retried: counted failed",
        outage: false,
    },
    Case {
        name: "not_otlp",
        fault: Some("not-otlp@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: false,
        expect: "gRPC refuses the page: counted failed",
        outage: false,
    },
    Case {
        name: "not_otlp_http",
        fault: Some("not-otlp@1/2"),
        env: &[],
        http: true,
        logs_lost_as_exported: false,
        expect: "the book's HTTP client refuses it: retried",
        outage: false,
    },
    Case {
        name: "rejected",
        fault: Some("reject@1/2"),
        env: &[],
        http: false,
        logs_lost_as_exported: true,
        expect: "spans counted rejected; the log exporter only logs it",
        outage: false,
    },
    Case {
        name: "rejected_http",
        fault: Some("reject@1/2"),
        env: &[],
        http: true,
        logs_lost_as_exported: false,
        expect: "the book's HTTP client counts them rejected",
        outage: false,
    },
    Case {
        name: "outage",
        fault: None,
        // The default log queue, so that logs overflow as spans do.
        env: &[("OTEL_BLRP_MAX_QUEUE_SIZE", "2048")],
        http: false,
        logs_lost_as_exported: false,
        expect: "down half the run: queues fill, counted dropped",
        outage: true,
    },
];

/// What one run measured.
pub struct FaultRun {
    pub case: &'static Case,
    pub load: Report,
    pub spans: Spans,
    /// The same counts for log records.
    pub logs: Spans,
    /// Spans in the requests the receiver answered badly (a retried
    /// request's spans are counted at every bad answer).
    pub faulted_spans: u64,
    /// Log records in those requests.
    pub faulted_logs: u64,
    /// Sum of the four services' peak resident memory, MiB.
    pub peak_rss_mib: f64,
}

impl FaultRun {
    /// Log records the services counted as exported that never arrived:
    /// those of faulted requests the log exporter took for delivered.
    pub fn logs_lost_as_exported(&self) -> u64 {
        if self.case.logs_lost_as_exported {
            self.faulted_logs
        } else {
            0
        }
    }

    /// Every request answered, and every span and log record accounted for:
    /// ended = received + failed + dropped + rejected (+ the log records
    /// lost as exported, which only the receiver's count accounts for).
    pub fn accounted(&self) -> bool {
        let balanced = |c: &Spans, lost: u64| {
            c.uncounted() == lost as i64 && c.received + lost == c.exported
        };
        self.load.all_answered()
            && balanced(&self.spans, 0)
            && balanced(&self.logs, self.logs_lost_as_exported())
    }
}

/// The receiver as a process: `otlp-receiver --counts-only [--fault F]`,
/// stopped by closing its standard input.
pub(super) struct Receiver {
    child: Killed,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pub(super) grpc: u16,
    http: u16,
}

/// What the receiver kept and what it answered badly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Kept {
    pub(super) spans: u64,
    pub(super) logs: u64,
    faulted_spans: u64,
    faulted_logs: u64,
}

impl Kept {
    fn add(self, o: Kept) -> Kept {
        Kept {
            spans: self.spans + o.spans,
            logs: self.logs + o.logs,
            faulted_spans: self.faulted_spans + o.faulted_spans,
            faulted_logs: self.faulted_logs + o.faulted_logs,
        }
    }
}

impl Receiver {
    /// Starts it on ports the system picks, or on `ports` (gRPC, HTTP).
    pub(super) fn start(
        bin: &Path,
        fault: Option<&str>,
        ports: Option<(u16, u16)>,
    ) -> Result<Receiver> {
        let mut cmd = Command::new(bin);
        if let Some((grpc, http)) = ports {
            cmd.args(["--grpc-port", &grpc.to_string()])
                .args(["--http-port", &http.to_string()]);
        }
        cmd.arg("--counts-only")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(fault) = fault {
            cmd.args(["--fault", fault]);
        }
        let mut child = Killed(
            cmd.spawn()
                .with_context(|| format!("starting {}", bin.display()))?,
        );
        let stdin = child.0.stdin.take();
        let mut stdout = BufReader::new(child.0.stdout.take().context("stdout")?);
        let mut port = |prefix: &str| -> Result<u16> {
            let mut line = String::new();
            stdout.read_line(&mut line)?;
            line.trim()
                .strip_prefix(prefix)
                .and_then(|p| p.parse().ok())
                .with_context(|| format!("the receiver said {line:?}"))
        };
        let grpc = port("grpc 127.0.0.1:")?;
        let http = port("http 127.0.0.1:")?;
        Ok(Receiver {
            child,
            stdin,
            stdout,
            grpc,
            http,
        })
    }

    /// Stops it and returns what it counted.
    pub(super) fn stop(mut self) -> Result<Kept> {
        drop(self.stdin.take());
        wait_with_limit(&mut self.child.0, Duration::from_secs(30))?;
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest)?;
        let line = rest
            .lines()
            .find(|l| l.starts_with("received "))
            .with_context(|| format!("the receiver printed no counts: {rest:?}"))?;
        parse_counts(line)
    }
}

/// `received N spans, M metric points, L log records in R requests (X
/// rejected)[; F faulted requests held S spans, P metric points, Q log
/// records]`.
fn parse_counts(line: &str) -> Result<Kept> {
    let number_before = |text: &str, word: &str| -> Option<u64> {
        let i = text.find(word)?;
        text[..i].split_whitespace().last()?.parse().ok()
    };
    let (kept, faulted) = match line.split_once("faulted requests held") {
        Some((kept, faulted)) => (kept, Some(faulted)),
        None => (line, None),
    };
    let count = |text: &str, word: &str| {
        number_before(text, word).with_context(|| format!("no{word} in {line:?}"))
    };
    let (faulted_spans, faulted_logs) = match faulted {
        Some(f) => (count(f, " spans")?, count(f, " log records")?),
        None => (0, 0),
    };
    Ok(Kept {
        spans: count(kept, " spans,")?,
        logs: count(kept, " log records")?,
        faulted_spans,
        faulted_logs,
    })
}

/// The collector's outage: from a quarter of `phase` to three quarters it
/// is stopped (its counts so far kept), then started again on its ports.
fn outage(
    bin: PathBuf,
    collector: Receiver,
    phase: Duration,
) -> std::thread::JoinHandle<Result<(Kept, Receiver)>> {
    std::thread::spawn(move || {
        std::thread::sleep(phase / 4);
        let ports = (collector.grpc, collector.http);
        let before = collector.stop()?;
        std::thread::sleep(phase / 2);
        Ok((before, Receiver::start(&bin, None, Some(ports))?))
    })
}

/// Runs one case: receiver, the four services, the load, then stops all.
pub fn run(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    case: &'static Case,
) -> Result<FaultRun> {
    run_watched(rt, s, receiver, case, None)
}

/// [`run`], with `sampler` watching the four services while they are loaded.
pub fn run_watched(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    case: &'static Case,
    sampler: Option<&Sampler>,
) -> Result<FaultRun> {
    let collector = Receiver::start(receiver, case.fault, None)?;
    let http_endpoint = format!("http://127.0.0.1:{}", collector.http);
    let mut env = case.env.to_vec();
    if case.http {
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", &http_endpoint));
        env.push(("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
    }
    let four = Four::start_with(collector.grpc, &env)?;
    let phase = Duration::from_secs_f64(s.seconds);
    // In an outage the collector belongs to the thread that stops and
    // restarts it, and comes back when it joins.
    let (collector, outage) = if case.outage {
        (None, Some(outage(receiver.to_owned(), collector, phase)))
    } else {
        (Some(collector), None)
    };
    if let Some(sampler) = sampler {
        sampler.start(four.pids());
    }
    let load = four.load(rt, s.chain_rate, phase, s.connections);
    let peak_kb: u64 = four
        .pids()
        .into_iter()
        .map(|pid| procfs::status(pid).map(|st| st.vm_hwm_kb))
        .sum::<Result<u64>>()?;
    let (mut spans, mut logs) = four.stop_counting_logs()?;
    let kept = match (collector, outage) {
        (Some(collector), _) => collector.stop()?,
        (None, Some(thread)) => {
            let joined = thread.join();
            let (before, collector) = joined.expect("the outage thread panicked")?;
            let after = collector.stop()?;
            // The exporters must find the collector again by themselves.
            ensure!(
                after.spans > 0 && after.logs > 0,
                "outage: after the collector came back it received {} spans \
                 and {} log records",
                after.spans,
                after.logs
            );
            before.add(after)
        }
        (None, None) => unreachable!("a collector or its outage thread"),
    };
    spans.received = kept.spans;
    logs.received = kept.logs;
    Ok(FaultRun {
        case,
        load: load?,
        spans,
        logs,
        faulted_spans: kept.faulted_spans,
        faulted_logs: kept.faulted_logs,
        peak_rss_mib: peak_kb as f64 / 1024.0,
    })
}

/// The runs as a table, each marked accounted / NOT accounted.
pub fn table<'a>(runs: impl IntoIterator<Item = &'a FaultRun>) -> String {
    let mut out = String::from(
        "fault                     req/s    P99 ms  ended  received  failed  dropped  \
         rejected  faulted  logs: ended received failed dropped  peak MiB  \
         accounting  (expected)\n",
    );
    for r in runs {
        let (sp, lr) = (&r.spans, &r.logs);
        out.push_str(&format!(
            "{:<24} {:>6.0} {:>9.2} {:>6} {:>9} {:>7} {:>8} {:>9} {:>8}  {:>11} {:>8} \
             {:>6} {:>7} {:>9.1}  {}  ({})\n",
            r.case.name,
            r.load.throughput(),
            r.load.latency_ms(0.99),
            sp.ended,
            sp.received,
            sp.failed,
            sp.dropped,
            sp.rejected,
            r.faulted_spans,
            lr.ended,
            lr.received,
            lr.failed,
            lr.dropped,
            r.peak_rss_mib,
            if r.accounted() { "met" } else { "MISSED" },
            r.case.expect
        ));
    }
    out
}

/// Fails unless every run answered every request and accounted for every
/// span and log record.
pub fn check<'a>(runs: impl IntoIterator<Item = &'a FaultRun>) -> Result<()> {
    for r in runs {
        let (sp, lr) = (&r.spans, &r.logs);
        ensure!(
            r.accounted(),
            "{}: {}; spans ended {} exported {} received {} failed {} dropped {} \
             faulted {}; log records ended {} exported {} received {} failed {} \
             dropped {} faulted {}",
            r.case.name,
            r.load.summary(),
            sp.ended,
            sp.exported,
            sp.received,
            sp.failed,
            sp.dropped,
            r.faulted_spans,
            lr.ended,
            lr.exported,
            lr.received,
            lr.failed,
            lr.dropped,
            r.faulted_logs
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `case` whose one request was answered, with these counts.
    fn run(case: &'static Case, spans: Spans, faulted_spans: u64) -> FaultRun {
        use otlp_csp_loadgen::{Outcome, Recorder};
        let mut recorder = Recorder::default();
        let now = std::time::Instant::now();
        recorder.record(now, now, now, Outcome::Ok);
        FaultRun {
            case,
            load: recorder.report(Duration::from_secs(1), 0),
            spans,
            logs: Spans::default(),
            faulted_spans,
            faulted_logs: 0,
            peak_rss_mib: 1.0,
        }
    }

    #[test]
    fn the_accounting_fails_on_a_span_nobody_counted() {
        let balanced = Spans {
            ended: 10,
            exported: 7,
            failed: 2,
            dropped: 1,
            rejected: 0,
            received: 7,
        };
        assert!(run(&CASES[1], balanced, 4).accounted());
        // One span the services call exported never arrived.
        let lost = Spans {
            received: 6,
            ..balanced
        };
        assert!(!run(&CASES[1], lost, 4).accounted());
        assert!(check(&[run(&CASES[1], lost, 4)]).is_err());
        // Not even where the log exporter takes the fault for success: the
        // book's span exporter counts what it loses.
        let page = Case {
            logs_lost_as_exported: true,
            ..CASES[1]
        };
        let page: &'static Case = Box::leak(Box::new(page));
        assert!(!run(page, lost, 1).accounted());
        // Its log records balance with the receiver's count of those lost,
        // and with no other.
        let mut r = run(page, balanced, 0);
        (r.logs, r.faulted_logs) = (lost, 1);
        assert!(r.accounted());
        r.faulted_logs = 2;
        assert!(!r.accounted());
        // Log records are held to the same balance.
        let mut r = run(&CASES[1], balanced, 4);
        r.logs = Spans {
            received: 6,
            ..balanced
        };
        assert!(!r.accounted());
        r.logs.received = 7;
        assert!(r.accounted());
    }

    #[test]
    fn reads_the_receivers_counts() {
        let healthy = "received 70 spans, 3 metric points, 9 log records in 4 requests \
                       (0 rejected)";
        let kept = |spans, logs, faulted_spans, faulted_logs| Kept {
            spans,
            logs,
            faulted_spans,
            faulted_logs,
        };
        assert_eq!(parse_counts(healthy).unwrap(), kept(70, 9, 0, 0));
        let faulted = "received 70 spans, 0 metric points, 0 log records in 4 requests \
                       (0 rejected); 2 faulted requests held 12 spans, 0 metric points, \
                       1 log records";
        assert_eq!(parse_counts(faulted).unwrap(), kept(70, 0, 12, 1));
        assert!(parse_counts("received nothing").is_err());
    }
}
