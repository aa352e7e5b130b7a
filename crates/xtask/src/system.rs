//! Part IV's system as four real processes (the `gateway`, `order`, `user`
//! and `payment` binaries), exporting to a real collector (rotel):
//!
//! - [`trace_across_processes`]: one request is one trace whose parent/child
//!   tree spans the four processes, read back from rotel's detailed log;
//! - [`sigterm_under_load`]: SIGTERM to every service while closed-loop
//!   clients keep the gateway busy: no client sees a reset or truncated
//!   answer, every process exits 0, every span reaches the collector;
//! - [`concurrency_limit`]: more clients than the gateway admits: which limit
//!   refuses, and what the refused get;
//! - [`cpu_quota`]: the services in a cgroup with a CPU quota, sized to it
//!   and to the host; the cgroup's throttling counted (root only);
//! - [`partition_in_namespaces`]: the payment service in its own network
//!   namespace behind a veth pair, the link cut: timeouts and the breaker
//!   behave as on loopback. Needs root and `ip`; otherwise SKIPPED.
//!
//! Everything binds 127.0.0.1, or addresses inside namespaces this module
//! creates and always deletes.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use book_results::{Measurement, record};

use crate::collector::{
    Rotel, count_in_detailed_log, ensure_rotel, spans_in_basic_log, two_free_ports,
};
use crate::run;

/// The caller's trace context sent with the traced request.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const ORDER: &str = r#"{"user":"grace","amount_cents":990}"#;
/// Spans one successful order makes: three hops, each a client and a
/// server span, plus the gateway's server span.
const SPANS_PER_ORDER: u64 = 7;

/// How long any one wait may take before the stage fails (a bound on the
/// test, not a speed goal).
const PATIENCE: Duration = Duration::from_secs(30);

/// Builds the four binaries.
fn build_services(root: &Path) -> Result<PathBuf> {
    run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "-p",
        "otlp-csp-services",
        "--bins",
    ])?;
    Ok(root.join("target/debug"))
}

/// One service process; killed if a check fails half-way.
struct Service {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
    /// `http://ADDR` it reported.
    url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Service {
    /// Starts `command` (a service binary, or `ip netns exec NS binary`) and
    /// reads the address from its first line:
    /// `NAME: listening on ADDR with N worker threads (...)`.
    fn start(name: &'static str, mut command: Command) -> Result<Service> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let stderr = child.stderr.take().context("stderr is piped")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut service = Service {
            name,
            child,
            lines,
            url: String::new(),
        };
        let first = service
            .lines
            .recv_timeout(PATIENCE)
            .with_context(|| format!("{name} said nothing within {PATIENCE:?}"))?;
        let addr = first
            .strip_prefix(&format!("{name}: listening on "))
            .and_then(|rest| rest.split_whitespace().next())
            .with_context(|| format!("{name} said {first:?}"))?;
        service.url = format!("http://{addr}");
        Ok(service)
    }

    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// SIGTERM, by pid.
    fn terminate(&self) -> Result<()> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} ({}) failed", self.name);
        }
        Ok(())
    }

    /// Waits for the exit and returns its status and the rest of stderr.
    fn wait(&mut self) -> Result<(ExitStatus, Vec<String>)> {
        let status = self.child.wait()?;
        // The reader thread ends at EOF, which follows the exit.
        let rest: Vec<String> = self.lines.iter().collect();
        Ok((status, rest))
    }
}

/// The command for one binary with the environment every service gets.
fn service_command(bin: &Path, name: &str, otlp: &str, listen: &str) -> Command {
    let mut cmd = Command::new(bin.join(name));
    cmd.env("LISTEN_ADDR", listen)
        .env("SHUTDOWN_DEADLINE_MS", "10000")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    cmd
}

/// user and payment, then order, then the gateway, on ephemeral ports.
fn start_four(bin: &Path, otlp: &str) -> Result<[Service; 4]> {
    let user =
        Service::start("user", service_command(bin, "user", otlp, "127.0.0.1:0"))?;
    let payment = Service::start(
        "payment",
        service_command(bin, "payment", otlp, "127.0.0.1:0"),
    )?;
    let mut cmd = service_command(bin, "order", otlp, "127.0.0.1:0");
    cmd.env("USER_URL", &user.url)
        .env("PAYMENT_URL", &payment.url);
    let order = Service::start("order", cmd)?;
    let mut cmd = service_command(bin, "gateway", otlp, "127.0.0.1:0");
    cmd.env("ORDER_URL", &order.url);
    let gateway = Service::start("gateway", cmd)?;
    Ok([gateway, order, user, payment])
}

/// SIGTERM to each service in turn, from the edge inwards, waiting for each
/// exit; returns the spans each said it exported. Every exit must be 0.
fn stop_all(services: &mut [Service]) -> Result<u64> {
    let mut exported = 0;
    for service in services.iter_mut() {
        service.terminate()?;
        let (status, rest) = service.wait()?;
        let said = rest.join("\n");
        if !status.success() {
            bail!("{} exited with {status}:\n{said}", service.name);
        }
        exported += rest
            .iter()
            .find_map(|l| {
                l.strip_prefix(&format!("{}: ", service.name))?
                    .strip_suffix(" span(s) exported; exit 0")?
                    .parse::<u64>()
                    .ok()
            })
            .with_context(|| {
                format!(
                    "{} did not report its exported spans:\n{said}",
                    service.name
                )
            })?;
    }
    Ok(exported)
}

/// How one HTTP exchange on a raw connection ended.
#[derive(Debug)]
enum Exchange {
    /// A whole answer: status line, headers, and `Content-Length` bytes.
    Complete {
        status: u16,
        close: bool,
        body: String,
    },
    /// The connection ended (EOF or reset) before one byte of the answer.
    NothingBack(String),
    /// The connection ended in the middle of the answer.
    Truncated(usize, String),
}

/// Writes a POST of `ORDER` to `/api/orders` and reads the answer.
fn post_order(stream: &mut TcpStream, traceparent: Option<&str>) -> Exchange {
    let mut request = format!(
        "POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        ORDER.len()
    );
    if let Some(tp) = traceparent {
        request.push_str(&format!("traceparent: {tp}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(ORDER);
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Exchange::NothingBack(format!("write: {e}"));
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let ended = |got: &Vec<u8>, why: String| {
        if got.is_empty() {
            Exchange::NothingBack(why)
        } else {
            Exchange::Truncated(got.len(), why)
        }
    };
    loop {
        if let Some(head_end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head =
                String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let close = head.lines().any(|l| l == "connection: close");
            if got.len() >= head_end + 4 + length {
                let body = &got[head_end + 4..head_end + 4 + length];
                let body = String::from_utf8_lossy(body).into_owned();
                return Exchange::Complete {
                    status,
                    close,
                    body,
                };
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return ended(&got, "EOF".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return ended(&got, format!("read: {e}")),
        }
    }
}

fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.set_write_timeout(Some(PATIENCE))?;
    Ok(stream)
}

// --- 1. One request, one trace across four processes ------------------------

/// One span as rotel's detailed log prints it.
#[derive(Debug, Clone, Default)]
struct LoggedSpan {
    service: String,
    trace_id: String,
    parent: String,
    id: String,
    name: String,
    kind: String,
    start: u64,
    status: String,
}

/// Reads every span out of rotel's detailed traces log.
fn parse_detailed_log(text: &str) -> Vec<LoggedSpan> {
    let mut spans = Vec::new();
    let mut service = String::new();
    let mut current: Option<LoggedSpan> = None;
    let field = |line: &str, name: &str| -> Option<String> {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    };
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-> service.name: Str(") {
            service = rest.trim_end_matches(')').to_owned();
        } else if line.starts_with("Span #") {
            spans.extend(current.take());
            current = Some(LoggedSpan {
                service: service.clone(),
                ..LoggedSpan::default()
            });
        } else if line.starts_with("ResourceSpans #") {
            spans.extend(current.take());
        } else if let Some(span) = current.as_mut() {
            if let Some(v) = field(line, "Trace ID") {
                span.trace_id = v;
            } else if let Some(v) = field(line, "Parent ID") {
                span.parent = v;
            } else if let Some(v) = field(line, "ID") {
                span.id = v;
            } else if let Some(v) = field(line, "Name") {
                span.name = v;
            } else if let Some(v) = field(line, "Kind") {
                span.kind = v.trim_start_matches("SPAN_KIND_").to_ascii_lowercase();
            } else if let Some(v) = field(line, "Start time") {
                span.start = v.parse().unwrap_or(0);
            } else if let Some(v) =
                line.strip_prefix("-> http.response.status_code: Int(")
            {
                span.status = v.trim_end_matches(')').to_owned();
            }
        }
    }
    spans.extend(current);
    spans
}

/// The spans of one trace as an indented tree, children in start order,
/// in the format of `otlp_csp_services::tree::render`.
fn render_tree(spans: &[LoggedSpan], root_parent: &str) -> String {
    fn walk(
        spans: &[LoggedSpan],
        parent: &str,
        prefix: &str,
        out: &mut String,
        top: bool,
    ) {
        let mut children: Vec<&LoggedSpan> =
            spans.iter().filter(|s| s.parent == parent).collect();
        children.sort_by_key(|s| s.start);
        let count = children.len();
        for (i, s) in children.into_iter().enumerate() {
            let last = i + 1 == count;
            let (branch, more) = match (top, last) {
                (true, _) => ("", ""),
                (false, true) => ("└─ ", "   "),
                (false, false) => ("├─ ", "│  "),
            };
            out.push_str(&format!(
                "{prefix}{branch}{}  [{}, {}]  {}\n",
                s.name, s.service, s.kind, s.status
            ));
            walk(spans, &s.id, &format!("{prefix}{more}"), out, false);
        }
    }
    let mut out = String::new();
    walk(spans, root_parent, "", &mut out, true);
    out
}

const EXPECTED_TREE: &str = "\
POST /api/orders  [gateway, server]  201
└─ POST  [gateway, client]  201
   └─ POST /orders  [order, server]  201
      ├─ GET  [order, client]  200
      │  └─ GET /users/{id}  [user, server]  200
      └─ POST  [order, client]  201
         └─ POST /charges  [payment, server]  201
";

/// One request through the four binaries: rotel must log one trace of seven
/// spans whose parent ids form the expected tree, rooted at the caller's span.
pub fn trace_across_processes(root: &Path) -> Result<()> {
    let agent = ensure_rotel(root)?;
    let bin = build_services(root)?;
    let ports = two_free_ports()?;
    let rotel = Rotel::start(
        &agent,
        ports,
        &["traces"],
        "detailed",
        root.join("target/xtask-system-trace.log"),
    )?;
    let otlp = format!("http://127.0.0.1:{}", ports.1);
    let mut services = start_four(&bin, &otlp)?;

    let mut stream = connect(services[0].addr())?;
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    match post_order(&mut stream, Some(&traceparent)) {
        Exchange::Complete { status: 201, .. } => {}
        other => bail!("the order was not placed: {other:?}"),
    }
    drop(stream);
    let exported = stop_all(&mut services)?;
    if exported != SPANS_PER_ORDER {
        bail!("the services exported {exported} spans, expected {SPANS_PER_ORDER}");
    }
    let log = rotel.stop()?;
    let spans: Vec<LoggedSpan> = parse_detailed_log(&log)
        .into_iter()
        .filter(|s| s.trace_id == TRACE_ID)
        .collect();
    let tree = render_tree(&spans, CALLER_SPAN);
    if spans.len() != SPANS_PER_ORDER as usize || tree != EXPECTED_TREE {
        bail!(
            "rotel logged {} span(s) of the trace (of {} spans in all); as a tree:\n{tree}\nexpected:\n{EXPECTED_TREE}",
            spans.len(),
            count_in_detailed_log(&log, "span POST /api/orders"),
        );
    }
    let processes: std::collections::BTreeSet<&str> =
        spans.iter().map(|s| s.service.as_str()).collect();
    println!(
        "    one trace of {} spans from {} processes, parent ids as expected:\n{}",
        spans.len(),
        processes.len(),
        tree.lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
            .trim_end()
    );
    Ok(())
}

// --- 2. SIGTERM under load ----------------------------------------------------

/// Closed-loop clients: each keeps one connection alive and sends the next
/// request when the previous answer is complete. Enough of them that the
/// gateway always has requests waiting: the services run flat out, and the
/// run checks it by the machine's idle time.
const CLIENTS: usize = 32;
/// Load before the SIGTERMs.
const LOAD_BEFORE_TERM: Duration = Duration::from_secs(3);
/// The machine counts as saturated when its CPUs were at least this busy
/// during the load.
const SATURATED: f64 = 0.9;

/// (busy, total) CPU time of the whole machine so far, in clock ticks, from
/// the first line of `/proc/stat` (idle and iowait count as not busy).
fn machine_ticks() -> Result<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat")?;
    parse_machine_ticks(&text)
}

fn parse_machine_ticks(text: &str) -> Result<(u64, u64)> {
    let line = text.lines().next().unwrap_or_default();
    let fields: Vec<u64> = match line.strip_prefix("cpu ") {
        Some(rest) => rest
            .split_whitespace()
            .map(|f| f.parse())
            .collect::<Result<_, _>>()?,
        None => bail!("/proc/stat starts with {line:?}, not the cpu line"),
    };
    if fields.len() < 5 {
        bail!(
            "/proc/stat's cpu line has {} fields: {line:?}",
            fields.len()
        );
    }
    // user nice system idle iowait irq softirq steal (guest is in user).
    let total: u64 = fields.iter().take(8).sum();
    Ok((total - fields[3] - fields[4], total))
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientLog {
    /// Whole answers, by status.
    completed: Vec<u16>,
    /// `connect` refused: the listener was closed (the normal end).
    refused: u64,
    /// On a connection that had already carried a whole exchange, the
    /// server closed it before one byte of the next answer. The server had
    /// closed an idle keep-alive connection while the request was on its way
    /// (RFC 9112 §9.3.1): the request was never read, which the span count
    /// below proves. Allowed, and counted.
    idle_closed: u64,
    /// Failures: a truncated answer, or nothing back on a fresh connection.
    broken: Vec<String>,
}

fn closed_loop_client(
    addr: String,
    stop_after: Instant,
    answered: Arc<AtomicU64>,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut conn: Option<(TcpStream, bool)> = None; // (stream, used before)
    while Instant::now() < stop_after {
        let (mut stream, reused) = match conn.take() {
            Some(c) => c,
            None => match connect(&addr) {
                Ok(s) => (s, false),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    log.refused += 1;
                    return log;
                }
                Err(e) => {
                    log.broken.push(format!("connect: {e}"));
                    return log;
                }
            },
        };
        match post_order(&mut stream, None) {
            Exchange::Complete { status, close, .. } => {
                log.completed.push(status);
                answered.fetch_add(1, Ordering::Relaxed);
                if !close {
                    conn = Some((stream, true));
                }
            }
            Exchange::NothingBack(_) if reused => log.idle_closed += 1,
            Exchange::NothingBack(why) => {
                log.broken.push(format!("fresh connection: {why}"))
            }
            Exchange::Truncated(n, why) => log
                .broken
                .push(format!("answer cut after {n} bytes: {why}")),
        }
    }
    log.broken.push("still served when the test gave up".into());
    log
}

/// SIGTERM to every service while closed-loop clients load the gateway.
///
/// "No client sees a reset connection" means, for every request a client
/// sent: either its whole answer arrived (status line, headers and every
/// byte of the body), or its `connect` was refused because the listener had
/// closed, or (on a kept-alive connection only) the server had closed that
/// idle connection before reading the request, in which case nothing at all
/// came back and no service started work on it. Never: an answer cut short,
/// or a fresh connection accepted and then dropped unanswered. Every process
/// must exit 0, and the spans rotel received must equal the spans the
/// services said they exported, which must equal seven per order placed.
pub fn sigterm_under_load(root: &Path) -> Result<()> {
    let agent = ensure_rotel(root)?;
    let bin = build_services(root)?;
    let ports = two_free_ports()?;
    let rotel = Rotel::start(
        &agent,
        ports,
        &["traces"],
        "basic",
        root.join("target/xtask-system-sigterm.log"),
    )?;
    let otlp = format!("http://127.0.0.1:{}", ports.1);
    let mut services = start_four(&bin, &otlp)?;

    let give_up = Instant::now() + LOAD_BEFORE_TERM + PATIENCE;
    let answered = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let addr = services[0].addr().to_owned();
            let answered = answered.clone();
            std::thread::spawn(move || closed_loop_client(addr, give_up, answered))
        })
        .collect();
    // The first second warms up; the busy share and the rate are measured
    // over the rest of the load, up to the first SIGTERM.
    std::thread::sleep(Duration::from_secs(1));
    let (busy0, total0) = machine_ticks()?;
    let (answered0, since) = (answered.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(LOAD_BEFORE_TERM - Duration::from_secs(1));
    let (busy1, total1) = machine_ticks()?;
    let rate = (answered.load(Ordering::Relaxed) - answered0) as f64
        / since.elapsed().as_secs_f64();
    let busy = (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64;
    let exported = stop_all(&mut services)?;
    let logs: Vec<ClientLog> = clients
        .into_iter()
        .map(|c| c.join().expect("a client thread does not panic"))
        .collect();

    let completed: Vec<u16> =
        logs.iter().flat_map(|l| l.completed.clone()).collect();
    let ok = completed.iter().filter(|s| **s == 201).count() as u64;
    let refused: u64 = logs.iter().map(|l| l.refused).sum();
    let idle_closed: u64 = logs.iter().map(|l| l.idle_closed).sum();
    let broken: Vec<&String> = logs.iter().flat_map(|l| &l.broken).collect();
    if !broken.is_empty() {
        bail!("clients saw broken exchanges: {broken:?}");
    }
    if ok != completed.len() as u64 {
        let other: Vec<&u16> = completed.iter().filter(|s| **s != 201).collect();
        bail!("{} answers were not 201: {other:?}", other.len());
    }
    if refused != CLIENTS as u64 {
        bail!("{refused} of {CLIENTS} clients ended on a refused connect");
    }

    // The collector writes its log as batches arrive; the last is in by now
    // (every exporter flushed before its process exited), but give rotel
    // the time to write it.
    let deadline = Instant::now() + PATIENCE;
    let mut received = spans_in_basic_log(&rotel.log()?);
    while received < exported && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        received = spans_in_basic_log(&rotel.log()?);
    }
    rotel.stop()?;
    // Spans the answered orders made that the collector never got (negative:
    // spans for orders no client saw answered).
    let lost = (SPANS_PER_ORDER * ok) as i64 - received as i64;
    if received != exported || lost != 0 {
        bail!(
            "{ok} orders placed ({} spans expected), services exported {exported}, \
             rotel received {received}",
            SPANS_PER_ORDER * ok
        );
    }
    let saturated = if busy >= SATURATED { "met" } else { "MISSED" };
    println!(
        "    {CLIENTS} clients, {rate:.0} orders/s before SIGTERM with the CPUs \
         {:.0} % busy (saturated, >= {:.0} %: {saturated})",
        busy * 100.0,
        SATURATED * 100.0
    );
    println!(
        "    {ok} orders answered 201, {refused} connects refused after \
         the listener closed, {idle_closed} idle keep-alive connection(s) closed before \
         their request was read, 0 resets or truncated answers; 4 exits with 0; \
         {exported} spans exported = {received} received by rotel = 7 x {ok}"
    );
    record(
        "system_sigterm",
        vec![
            Measurement::count("system_sigterm/orders", ok as f64, "requests"),
            Measurement::count("system_sigterm/refused", refused as f64, "connects"),
            Measurement::count(
                "system_sigterm/idle_closed",
                idle_closed as f64,
                "requests",
            ),
            Measurement::count(
                "system_sigterm/spans_received",
                received as f64,
                "spans",
            ),
            Measurement::count("system_sigterm/spans_lost", lost as f64, "spans"),
            Measurement::count("system_sigterm/clients", CLIENTS as f64, "clients"),
            Measurement::count("system_sigterm/rate", rate, "req/s"),
            Measurement::count("system_sigterm/busy_pct", busy * 100.0, "%"),
        ],
    )?;
    Ok(())
}

// --- 3. More requests than the concurrency limit --------------------------

/// Closed-loop clients for the limit: more than the gateway's limit of 256
/// requests in flight (`MAX_CONCURRENT_REQUESTS`).
const OVER_LIMIT_CLIENTS: usize = 320;
/// How long they load the gateway, after a second to connect.
const OVER_LIMIT_LOAD: Duration = Duration::from_secs(3);

/// What one answer was, and how long it took.
struct Answer {
    status: u16,
    body: String,
    took: Duration,
}

/// One closed-loop client on one kept-alive connection, until `stop`.
fn timed_client(addr: String, start: Instant, stop: Instant) -> Result<Vec<Answer>> {
    let mut answers = Vec::new();
    let mut stream = connect(&addr)?;
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    while Instant::now() < stop {
        let sent = Instant::now();
        match post_order(&mut stream, None) {
            Exchange::Complete {
                status,
                close,
                body,
            } => {
                answers.push(Answer {
                    status,
                    body,
                    took: sent.elapsed(),
                });
                if close {
                    stream = connect(&addr)?;
                }
            }
            other => bail!("an exchange under the limit failed: {other:?}"),
        }
    }
    Ok(answers)
}

/// The `q` quantile of `times`, in milliseconds (0 when empty).
fn quantile_ms(times: &mut [Duration], q: f64) -> f64 {
    times.sort();
    let i = ((times.len() as f64 - 1.0) * q).round() as usize;
    times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// What one run over the limit saw.
struct OverLimit {
    admitted: usize,
    by_server: usize,
    by_peer: usize,
    admitted_ms: (f64, f64),
    shed_ms: (f64, f64),
    /// The first answer of each kind of refusal, status and body.
    server_example: String,
    peer_example: String,
}

/// Body of the `503` a service's inbound limit answers with.
const SERVER_SHED: &str = "overloaded, try again later";
/// Body of the `503` when a peer's outbound limit refused the call.
const PEER_SHED: &str = "too many calls in flight";

/// The four services with `env` set in each, exporting nothing (the spans
/// are still made); inside the cgroup `cgroup` when given (each process
/// joins it before `exec`, so its runtime sees the cgroup's quota).
fn four_services(
    bin: &Path,
    env: &[(&str, &str)],
    cgroup: Option<&Path>,
) -> Result<[Service; 4]> {
    let cmd = |name: &str| {
        let mut c = match cgroup {
            Some(dir) => {
                let mut c = Command::new("sh");
                c.args(["-c", r#"echo $$ > "$1/cgroup.procs" && exec "$0""#])
                    .arg(bin.join(name))
                    .arg(dir);
                c
            }
            None => Command::new(bin.join(name)),
        };
        c.env("LISTEN_ADDR", "127.0.0.1:0")
            .env("SHUTDOWN_DEADLINE_MS", "10000")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none")
            .env("OTEL_LOGS_EXPORTER", "none")
            .envs(env.iter().copied());
        c
    };
    let (user, payment) = (
        Service::start("user", cmd("user"))?,
        Service::start("payment", cmd("payment"))?,
    );
    let mut order = cmd("order");
    order
        .env("USER_URL", &user.url)
        .env("PAYMENT_URL", &payment.url);
    let order = Service::start("order", order)?;
    let mut gateway = cmd("gateway");
    gateway.env("ORDER_URL", &order.url);
    let gateway = Service::start("gateway", gateway)?;
    Ok([gateway, order, user, payment])
}

/// Closed-loop `clients` on the gateway from one second from now for
/// `load`; every answer with its time.
fn closed_loop(
    services: &[Service; 4],
    clients: usize,
    load: Duration,
) -> Result<Vec<Answer>> {
    let begin = Instant::now() + Duration::from_secs(1);
    let stop = begin + load;
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let addr = services[0].addr().to_owned();
            std::thread::spawn(move || timed_client(addr, begin, stop))
        })
        .collect();
    let mut answers = Vec::new();
    for t in threads {
        answers.extend(t.join().expect("a client thread does not panic")?);
    }
    Ok(answers)
}

/// [`OVER_LIMIT_CLIENTS`] closed-loop clients against [`four_services`].
fn over_limit(bin: &Path, env: &[(&str, &str)]) -> Result<OverLimit> {
    let mut services = four_services(bin, env, None)?;
    let answers = closed_loop(&services, OVER_LIMIT_CLIENTS, OVER_LIMIT_LOAD)?;
    stop_all(&mut services)?;
    let shed = |a: &Answer, body: &str| a.status == 503 && a.body.contains(body);
    let other: Vec<String> = answers
        .iter()
        .filter(|a| a.status != 201 && !shed(a, SERVER_SHED) && !shed(a, PEER_SHED))
        .take(3)
        .map(|a| format!("{} {}", a.status, a.body))
        .collect();
    if !other.is_empty() {
        bail!("answers other than 201 or a shed 503: {other:?}");
    }
    let times = |f: &dyn Fn(&Answer) -> bool| -> (f64, f64) {
        let mut t: Vec<Duration> =
            answers.iter().filter(|a| f(a)).map(|a| a.took).collect();
        (quantile_ms(&mut t, 0.5), quantile_ms(&mut t, 0.99))
    };
    let example = |body: &str| {
        answers
            .iter()
            .find(|a| shed(a, body))
            .map_or("(none)".into(), |a| format!("{} {}", a.status, a.body))
    };
    Ok(OverLimit {
        admitted: answers.iter().filter(|a| a.status == 201).count(),
        by_server: answers.iter().filter(|a| shed(a, SERVER_SHED)).count(),
        by_peer: answers.iter().filter(|a| shed(a, PEER_SHED)).count(),
        admitted_ms: times(&|a| a.status == 201),
        shed_ms: times(&|a| a.status == 503),
        server_example: example(SERVER_SHED),
        peer_example: example(PEER_SHED),
    })
}

/// More clients than the gateway admits, twice: with the default limits,
/// and with the outbound limit (64 calls per peer) raised above the inbound
/// one (256 requests), so that the 257th request meets the inbound limit.
pub fn concurrency_limit(root: &Path) -> Result<()> {
    let bin = build_services(root)?;
    // Timeouts and breakers out of the way: on a busy machine a 2 s timeout
    // can fire at this load, and this run is about the limits alone.
    let quiet = [("PEER_TIMEOUT_MS", "30000"), ("BREAKER_FAILURES", "100000")];
    let wide = [quiet[0], quiet[1], ("PEER_MAX_IN_FLIGHT", "1024")];
    let runs = [
        ("defaults", over_limit(&bin, &quiet)?),
        ("wide_peer", over_limit(&bin, &wide)?),
    ];
    let g = |id: &str| format!("system_limit/{id}");
    let mut m = vec![
        Measurement::count(g("clients"), OVER_LIMIT_CLIENTS as f64, "clients"),
        Measurement::count(g("seconds"), OVER_LIMIT_LOAD.as_secs_f64(), "s"),
    ];
    for (name, r) in &runs {
        println!(
            "    {name}: {OVER_LIMIT_CLIENTS} clients for {OVER_LIMIT_LOAD:?}: {} \
             orders 201 (p50 {:.1} ms, p99 {:.1} ms); 503s (p50 {:.1} ms, p99 \
             {:.1} ms): {} from the limit on calls to order, {} from the limit \
             of 256 requests",
            r.admitted,
            r.admitted_ms.0,
            r.admitted_ms.1,
            r.shed_ms.0,
            r.shed_ms.1,
            r.by_peer,
            r.by_server
        );
        if r.by_server + r.by_peer == 0 {
            bail!("{name}: {OVER_LIMIT_CLIENTS} clients and nothing shed");
        }
        let id = |what: &str| g(&format!("{name}_{what}"));
        let n = |what: &str, v: usize| {
            Measurement::count(id(what), v as f64, "requests")
        };
        let ms = |what: &str, v: f64| Measurement::count(id(what), v, "ms");
        m.extend([
            n("admitted", r.admitted),
            n("shed_by_server", r.by_server).with_text(r.server_example.clone()),
            n("shed_by_peer_limit", r.by_peer).with_text(r.peer_example.clone()),
            ms("admitted_p50", r.admitted_ms.0),
            ms("admitted_p99", r.admitted_ms.1),
            ms("shed_p50", r.shed_ms.0),
            ms("shed_p99", r.shed_ms.1),
        ]);
    }
    if runs[1].1.by_server == 0 {
        bail!(
            "with the outbound limit raised, the inbound limit of 256 was never reached"
        );
    }
    record("system_limit", m)?;
    Ok(())
}

// --- 4. A CPU quota, with and without sizing to it -------------------------

/// Clients for the quota runs: enough to keep the quota busy.
const QUOTA_CLIENTS: usize = 8;
/// The quota the four services share: one CPU's worth per 100 ms period.
const QUOTA_US: u64 = 100_000;
const PERIOD_US: u64 = 100_000;

/// A cgroup with a CPU quota, removed on drop (its processes must have
/// exited by then).
struct QuotaGroup {
    dir: PathBuf,
    /// The v2 file `cpu.max`, or v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
    v2: bool,
}

impl QuotaGroup {
    /// Creates `otlpcsp-quota-PID` under the cpu controller's hierarchy: v2
    /// when `/sys/fs/cgroup` is unified with `cpu` enabled, else v1's
    /// `/sys/fs/cgroup/cpu`. `Err` says why there is none.
    fn create() -> std::result::Result<QuotaGroup, String> {
        let name = format!("otlpcsp-quota-{}", std::process::id());
        let root = Path::new("/sys/fs/cgroup");
        let controllers = std::fs::read_to_string(root.join("cgroup.controllers"));
        let (dir, v2) = match controllers {
            Ok(c) if c.split_whitespace().any(|w| w == "cpu") => {
                (root.join(&name), true)
            }
            _ if root.join("cpu/cpu.cfs_quota_us").is_file() => {
                (root.join("cpu").join(&name), false)
            }
            _ => return Err("no cgroup cpu controller (v1 or v2) here".into()),
        };
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let group = QuotaGroup { dir, v2 };
        let write = |file: &str, text: String| {
            std::fs::write(group.dir.join(file), text)
                .map_err(|e| format!("cannot write {file}: {e}"))
        };
        if v2 {
            write("cpu.max", format!("{QUOTA_US} {PERIOD_US}"))?;
        } else {
            write("cpu.cfs_period_us", PERIOD_US.to_string())?;
            write("cpu.cfs_quota_us", QUOTA_US.to_string())?;
        }
        Ok(group)
    }

    /// (periods, throttled periods, throttled time in ms) from `cpu.stat`.
    fn throttling(&self) -> Result<(u64, u64, f64)> {
        let text = std::fs::read_to_string(self.dir.join("cpu.stat"))?;
        let field = |name: &str| -> Result<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .with_context(|| format!("no {name} in cpu.stat: {text:?}"))
        };
        // v1 counts nanoseconds, v2 microseconds.
        let (time, per_ms) = if self.v2 {
            (field("throttled_usec ")?, 1e3)
        } else {
            (field("throttled_time ")?, 1e6)
        };
        Ok((
            field("nr_periods ")?,
            field("nr_throttled ")?,
            time as f64 / per_ms,
        ))
    }
}

impl Drop for QuotaGroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The four services in one cgroup with a quota of one CPU, loaded by
/// [`QUOTA_CLIENTS`] closed-loop clients: once sized to the quota (one
/// worker each, what the runtime reads from the cgroup), once to the host
/// (`WORKER_THREADS` = the host's CPUs). Records orders/s, P50, P99 and the
/// cgroup's throttling for each. `Ok(Some(reason))`: skipped.
pub fn cpu_quota(root: &Path) -> Result<Option<String>> {
    if effective_uid() != Some(0) {
        return Ok(Some("needs root to create a cgroup".into()));
    }
    let bin = build_services(root)?;
    let host = std::thread::available_parallelism().map_or(1, |n| n.get());
    let host_workers = host.to_string();
    let g = |id: &str| format!("system_quota/{id}");
    let mut m = vec![
        Measurement::count(
            g("quota_cpus"),
            QUOTA_US as f64 / PERIOD_US as f64,
            "CPUs",
        ),
        Measurement::count(g("host_cpus"), host as f64, "CPUs"),
        Measurement::count(g("clients"), QUOTA_CLIENTS as f64, "clients"),
    ];
    for (name, env) in [
        ("sized", vec![]),
        (
            "host_sized",
            vec![("WORKER_THREADS", host_workers.as_str())],
        ),
    ] {
        let group = match QuotaGroup::create() {
            Ok(group) => group,
            Err(reason) => return Ok(Some(reason)),
        };
        let mut services = four_services(&bin, &env, Some(&group.dir))?;
        let before = group.throttling()?;
        let answers = closed_loop(&services, QUOTA_CLIENTS, OVER_LIMIT_LOAD)?;
        let after = group.throttling()?;
        stop_all(&mut services)?;
        drop(group);
        if let Some(a) = answers.iter().find(|a| a.status != 201) {
            bail!("{name}: an order got {} {}", a.status, a.body);
        }
        let mut times: Vec<Duration> = answers.iter().map(|a| a.took).collect();
        let (p50, p99) =
            (quantile_ms(&mut times, 0.5), quantile_ms(&mut times, 0.99));
        let rate = answers.len() as f64 / OVER_LIMIT_LOAD.as_secs_f64();
        let (periods, throttled) = (after.0 - before.0, after.1 - before.1);
        let throttled_ms = after.2 - before.2;
        println!(
            "    {name}: {rate:.0} orders/s, p50 {p50:.1} ms, p99 {p99:.1} ms; \
             throttled in {throttled} of {periods} periods, {throttled_ms:.0} ms in all"
        );
        let id = |what: &str| g(&format!("{name}_{what}"));
        m.extend([
            Measurement::count(id("rate"), rate, "req/s"),
            Measurement::count(id("p50"), p50, "ms"),
            Measurement::count(id("p99"), p99, "ms"),
            Measurement::count(id("periods"), periods as f64, "periods"),
            Measurement::count(id("throttled"), throttled as f64, "periods"),
            Measurement::count(id("throttled_ms"), throttled_ms, "ms"),
        ]);
    }
    record("system_quota", m)?;
    Ok(None)
}

// --- 5. A cut link between network namespaces --------------------------------

/// The two namespaces and the veth pair between them; deleted on drop, also
/// when a check fails half-way.
struct Namespaces {
    names: [String; 2],
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        // Deleting a namespace also deletes the veth end inside it (and so
        // the pair).
        for name in &self.names {
            let _ = Command::new("ip")
                .args(["netns", "del", name])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if !out.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The effective user id, from `/proc/self/status`.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Why the test cannot run here, if it cannot.
fn namespaces_unavailable() -> Option<String> {
    if effective_uid() != Some(0) {
        return Some(
            "creating network namespaces needs root (effective uid is not 0)".into(),
        );
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("no `ip` command (iproute2) on this machine".into()),
    }
}

fn has_tc() -> bool {
    Command::new("tc")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Timeout of the order service's calls, and the breaker's threshold.
const NS_PEER_TIMEOUT_MS: u64 = 500;
const NS_BREAKER_FAILURES: usize = 3;
const NS_COOLDOWN_MS: u64 = 1000;
const NS_A: &str = "10.200.0.1";
const NS_B: &str = "10.200.0.2";

/// `POST /api/orders` with curl run inside namespace `ns`: status, seconds
/// taken, body.
/// Seconds of load on the gateway while the link is cut.
const PARTITION_LOAD: u64 = 3;
/// Its closed-loop connections.
const PARTITION_CONNECTIONS: u64 = 32;

/// What `loadgen` printed: its counts, latencies and the whole line.
#[derive(Debug, Default, PartialEq)]
struct Loaded {
    ok: u64,
    bad_status: u64,
    transport: u64,
    timed_out: u64,
    /// Seconds from the first request to the last answer.
    elapsed: f64,
    p50_ms: f64,
    p99_ms: f64,
    line: String,
}

impl Loaded {
    fn answered(&self) -> u64 {
        self.ok + self.bad_status
    }

    /// Answers of any status per second (loadgen's own rate counts `2xx`).
    fn answered_per_second(&self) -> f64 {
        self.answered() as f64 / self.elapsed.max(1e-9)
    }

    /// `N ok, N bad status, N transport errors, N timed out, N unsent in S s
    /// (R req/s); latency p50 X ms p99 Y ms ...`.
    fn parse(line: &str) -> Result<Loaded> {
        let number = |before: &str| -> Result<f64> {
            let i = line
                .find(before)
                .with_context(|| format!("no {before:?} in {line:?}"))?;
            let text = line[..i].rsplit([' ', '(']).next().unwrap_or_default();
            text.parse()
                .with_context(|| format!("{text:?} before {before:?} in {line:?}"))
        };
        let after = |word: &str| -> Result<f64> {
            let i = line
                .find(word)
                .with_context(|| format!("no {word:?} in {line:?}"))?;
            let text = line[i + word.len()..].split_whitespace().next();
            text.and_then(|t| t.parse().ok())
                .with_context(|| format!("no number after {word:?} in {line:?}"))
        };
        Ok(Loaded {
            ok: number(" ok,")? as u64,
            bad_status: number(" bad status,")? as u64,
            transport: number(" transport errors,")? as u64,
            timed_out: number(" timed out,")? as u64,
            elapsed: number(" s (")?,
            p50_ms: after("latency p50 ")?,
            p99_ms: after(" p99 ")?,
            line: line.to_owned(),
        })
    }
}

/// Runs the book's `loadgen` inside namespace `ns`: closed loop, orders to
/// the gateway at `url`, for `seconds`.
fn loadgen_in(root: &Path, ns: &str, url: &str, seconds: u64) -> Result<Loaded> {
    run::cargo(&["build", "--quiet", "--locked", "-p", "otlp-csp-loadgen"])?;
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(root.join("target/debug/loadgen"))
        .args(["closed", &format!("{url}/api/orders"), "10000000"])
        .args([seconds.to_string(), PARTITION_CONNECTIONS.to_string()])
        .args(["--post", ORDER])
        .output()?;
    // It exits 1 when some answer was not a 2xx, which is the point here.
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains(" bad status,"))
        .with_context(|| {
            format!(
                "loadgen printed no summary: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    Loaded::parse(line)
}

fn curl_order(ns: &str, url: &str) -> Result<(u16, f64, String)> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "-s", "--max-time", "30"])
        .args(["-H", "content-type: application/json", "-d", ORDER])
        .args([
            "-w",
            "\n%{http_code} %{time_total}",
            &format!("{url}/api/orders"),
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let mut words = last.split_whitespace();
    let status = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let seconds = words
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(f64::NAN);
    Ok((status, seconds, body.to_owned()))
}

/// The payment service alone in namespace B, the other three in namespace A,
/// joined by a veth pair with private addresses. After one good order the
/// link is cut (100 % loss both ways with `tc netem`, or the link taken down
/// when there is no `tc`). As on loopback, the order service's calls to
/// payment fail (`504` after `PEER_TIMEOUT_MS` under loss, `502` on a downed
/// link) exactly `BREAKER_FAILURES` times, then the breaker opens and the
/// gateway answers `503` without waiting for the network; once the link is
/// back and the cool-down has passed, a probe closes the breaker again.
/// Returns `Some(reason)` when namespaces cannot be made here: SKIPPED.
pub fn partition_in_namespaces(root: &Path) -> Result<Option<String>> {
    if let Some(reason) = namespaces_unavailable() {
        return Ok(Some(reason));
    }
    let tag = std::process::id();
    let (ns_a, ns_b) = (format!("otlpcsp-a-{tag}"), format!("otlpcsp-b-{tag}"));
    let (veth_a, veth_b) = (format!("oca{tag}"), format!("ocb{tag}"));
    if let Err(e) = ip(&["netns", "add", &ns_a]) {
        return Ok(Some(format!(
            "cannot create a network namespace here: {e:#}"
        )));
    }
    let _namespaces = Namespaces {
        names: [ns_a.clone(), ns_b.clone()],
    };
    ip(&["netns", "add", &ns_b])?;
    ip(&[
        "link", "add", &veth_a, "type", "veth", "peer", "name", &veth_b,
    ])?;
    ip(&["link", "set", &veth_a, "netns", &ns_a])?;
    ip(&["link", "set", &veth_b, "netns", &ns_b])?;
    for (ns, dev, addr) in [(&ns_a, &veth_a, NS_A), (&ns_b, &veth_b, NS_B)] {
        ip(&["-n", ns, "addr", "add", &format!("{addr}/30"), "dev", dev])?;
        ip(&["-n", ns, "link", "set", dev, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
    }

    let bin = build_services(root)?;
    let in_ns = |ns: &str, name: &str, listen: &str| {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns])
            .arg(bin.join(name))
            .env("LISTEN_ADDR", listen)
            .env("SHUTDOWN_DEADLINE_MS", "10000")
            // Nothing to export to inside the namespaces: count, print nothing.
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none")
            .env("OTEL_LOGS_EXPORTER", "none");
        cmd
    };
    let payment =
        Service::start("payment", in_ns(&ns_b, "payment", &format!("{NS_B}:0")))?;
    let user = Service::start("user", in_ns(&ns_a, "user", "127.0.0.1:0"))?;
    let mut cmd = in_ns(&ns_a, "order", "127.0.0.1:0");
    cmd.env("USER_URL", &user.url)
        .env("PAYMENT_URL", &payment.url)
        .env("PEER_TIMEOUT_MS", NS_PEER_TIMEOUT_MS.to_string())
        .env("BREAKER_FAILURES", NS_BREAKER_FAILURES.to_string())
        .env("BREAKER_COOLDOWN_MS", NS_COOLDOWN_MS.to_string());
    let order = Service::start("order", cmd)?;
    let mut cmd = in_ns(&ns_a, "gateway", "127.0.0.1:0");
    cmd.env("ORDER_URL", &order.url)
        // The gateway waits longer than the order service's own timeout and
        // holds nothing against it: this test is about the payment link.
        .env("PEER_TIMEOUT_MS", "10000")
        .env("BREAKER_FAILURES", "1000");
    let gateway = Service::start("gateway", cmd)?;
    let mut services = [gateway, order, user, payment];
    let url = services[0].url.clone();

    let (status, _, body) = curl_order(&ns_a, &url)?;
    if status != 201 {
        bail!("before the cut, an order across the namespaces got {status}: {body}");
    }

    // The cut: 100 % loss both ways where the kernel has `netem`, else the
    // payment side of the pair taken down (the gateway side keeps its
    // route and address cache, so packets are sent and silently lost: a
    // partition, not a refusal).
    let netem = has_tc()
        && [(&ns_a, &veth_a), (&ns_b, &veth_b)]
            .iter()
            .all(|(ns, dev)| {
                Command::new("tc")
                    .args([
                        "-n", ns, "qdisc", "add", "dev", dev, "root", "netem",
                        "loss", "100%",
                    ])
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
    if !netem {
        for (ns, dev) in [(&ns_a, &veth_a), (&ns_b, &veth_b)] {
            let _ = Command::new("tc")
                .args(["-n", ns, "qdisc", "del", "dev", dev, "root"])
                .stderr(Stdio::null())
                .output();
        }
        ip(&["-n", &ns_b, "link", "set", &veth_b, "down"])?;
    }
    // Cutting again the way the first cut went.
    let cut = || -> Result<()> {
        if netem {
            for (ns, dev) in [(&ns_a, &veth_a), (&ns_b, &veth_b)] {
                let out = Command::new("tc")
                    .args(["-n", ns, "qdisc", "add", "dev", dev, "root", "netem"])
                    .args(["loss", "100%"])
                    .output()?;
                if !out.status.success() {
                    bail!(
                        "tc netem failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            Ok(())
        } else {
            ip(&["-n", &ns_b, "link", "set", &veth_b, "down"])
        }
    };
    let heal = || -> Result<()> {
        if netem {
            for (ns, dev) in [(&ns_a, &veth_a), (&ns_b, &veth_b)] {
                let out = Command::new("tc")
                    .args(["-n", ns, "qdisc", "del", "dev", dev, "root"])
                    .output()?;
                if !out.status.success() {
                    bail!(
                        "tc qdisc del failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            Ok(())
        } else {
            ip(&["-n", &ns_b, "link", "set", &veth_b, "up"])
        }
    };
    let failure = 504;
    let mut answers = Vec::new();
    for _ in 0..NS_BREAKER_FAILURES + 3 {
        answers.push(curl_order(&ns_a, &url)?);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    let expected: Vec<u16> = (0..NS_BREAKER_FAILURES + 3)
        .map(|i| {
            if i < NS_BREAKER_FAILURES {
                failure
            } else {
                503
            }
        })
        .collect();
    if statuses != expected {
        bail!(
            "with the link cut the gateway answered {statuses:?}, expected {expected:?}: {answers:?}"
        );
    }
    let timeout = NS_PEER_TIMEOUT_MS as f64 / 1000.0;
    for (status, seconds, body) in &answers[NS_BREAKER_FAILURES..] {
        // The breaker refuses without touching the network: it cannot have
        // waited for the peer timeout.
        if !body.contains("circuit breaker open") || *seconds >= timeout {
            bail!(
                "a {status} after {seconds}s that is not the breaker's fast refusal: {body}"
            );
        }
    }

    heal()?;
    let healed = Instant::now();
    // After the cool-down a probe goes through and closes the breaker.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, _, body) = curl_order(&ns_a, &url)?;
        match status {
            201 => break,
            503 if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200))
            }
            _ => bail!(
                "after the link came back the gateway answered {status}: {body}"
            ),
        }
    }
    let recovery = healed.elapsed();

    // The same cut under load: closed-loop clients inside namespace A keep
    // the gateway saturated while the link is down. Every order must get an
    // answer (a refusal, here): none may hang or be reset.
    cut()?;
    let loaded = loadgen_in(root, &ns_a, &url, PARTITION_LOAD)?;
    heal()?;
    if loaded.transport + loaded.timed_out > 0 || loaded.answered() == 0 {
        bail!("under load with the link cut: {}", loaded.line);
    }
    let deadline = Instant::now() + PATIENCE;
    while curl_order(&ns_a, &url)?.0 != 201 {
        if Instant::now() > deadline {
            bail!("after the loaded cut the breaker never closed again");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop_all(&mut services)?;
    let mut m = vec![
        Measurement::count(
            "system_partition/timeout_ms",
            NS_PEER_TIMEOUT_MS as f64,
            "ms",
        ),
        Measurement::count(
            "system_partition/cooldown_ms",
            NS_COOLDOWN_MS as f64,
            "ms",
        ),
        Measurement::count(
            "system_partition/recovery_ms",
            recovery.as_secs_f64() * 1e3,
            "ms",
        ),
        Measurement::count(
            "system_partition/netem",
            f64::from(u8::from(netem)),
            "flag",
        )
        .with_text(if netem {
            "every packet dropped both ways by tc netem (loss 100%)"
        } else {
            "payment's end of the veth pair taken down (no netem here)"
        }),
    ];
    for (i, (status, seconds, _)) in answers.iter().enumerate() {
        let id = |what: &str| format!("system_partition/answer{}_{what}", i + 1);
        m.push(Measurement::count(
            id("status"),
            f64::from(*status),
            "HTTP status",
        ));
        m.push(Measurement::count(id("ms"), seconds * 1e3, "ms"));
    }
    let id = |what: &str| format!("system_partition/loaded_{what}");
    m.extend([
        Measurement::count(id("seconds"), PARTITION_LOAD as f64, "s"),
        Measurement::count(
            id("connections"),
            PARTITION_CONNECTIONS as f64,
            "clients",
        ),
        Measurement::count(id("answered"), loaded.answered() as f64, "orders"),
        Measurement::count(id("ok"), loaded.ok as f64, "orders"),
        Measurement::count(id("rate"), loaded.answered_per_second(), "req/s"),
        Measurement::count(id("p50"), loaded.p50_ms, "ms"),
        Measurement::count(id("p99"), loaded.p99_ms, "ms"),
    ]);
    record("system_partition", m)?;
    println!(
        "    payment behind a veth pair ({NS_A} <-> {NS_B}), link cut with {}: {statuses:?}; \
         the breaker opened after {NS_BREAKER_FAILURES} failures and refused without waiting; \
         link restored, breaker closed again; namespaces removed",
        if netem {
            "tc netem loss 100%"
        } else {
            "payment's end of the veth pair down"
        }
    );
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_throttling_from_either_cgroup_version() {
        let dir = std::env::temp_dir()
            .join(format!("xtask-cpustat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stat = |text: &str| std::fs::write(dir.join("cpu.stat"), text).unwrap();
        let group = |v2| QuotaGroup {
            dir: dir.clone(),
            v2,
        };
        stat("nr_periods 30\nnr_throttled 5\nthrottled_time 65000000\n");
        assert_eq!(group(false).throttling().unwrap(), (30, 5, 65.0));
        stat("usage_usec 9\nnr_periods 30\nnr_throttled 5\nthrottled_usec 65000\n");
        assert_eq!(group(true).throttling().unwrap(), (30, 5, 65.0));
        stat("nr_periods 30\n");
        assert!(group(false).throttling().is_err());
        // Dropping a group removes its directory (empty here once the file
        // is gone, as a real cgroup's is once its processes exit).
        std::fs::remove_file(dir.join("cpu.stat")).unwrap();
        drop(group(false));
        assert!(!dir.exists());
    }

    #[test]
    fn reads_loadgens_summary() {
        let line = "0 ok, 900 bad status, 0 transport errors, 0 timed out, 0 unsent \
                    in 3.01 s (299 req/s); latency p50 1.250 ms p99 502.500 ms max \
                    510.000 ms; service time p50 1.200 ms p99 502.000 ms";
        let l = Loaded::parse(line).unwrap();
        assert_eq!(
            (l.ok, l.bad_status, l.transport, l.timed_out),
            (0, 900, 0, 0)
        );
        assert_eq!((l.elapsed, l.p50_ms, l.p99_ms), (3.01, 1.25, 502.5));
        assert!((l.answered_per_second() - 299.0).abs() < 0.1);
        assert!(Loaded::parse("0 ok, in 3 s").is_err());
    }

    #[test]
    fn reads_the_machines_busy_and_total_ticks() {
        let stat = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 1 2 3 4 5 6 7\n";
        assert_eq!(parse_machine_ticks(stat).unwrap(), (160, 1000));
        assert!(parse_machine_ticks("intr 1 2 3\n").is_err());
        assert!(parse_machine_ticks("cpu  1 2 x 4 5\n").is_err());
        assert!(parse_machine_ticks("cpu  1 2 3\n").is_err());
    }
}
