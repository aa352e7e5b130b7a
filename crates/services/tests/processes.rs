//! The four binaries as four processes, configured by environment only,
//! exporting over OTLP/HTTP to an in-process receiver; then SIGTERM to each.
//! One request must come back as one trace whose spans were sent by four
//! processes, with log records that carry its trace id, and every process
//! must exit 0 after its phased shutdown.

use std::io::{BufRead, BufReader, Read as _};
use std::process::{Child, ChildStderr, Command, Stdio};

use otlp_csp_services::tree;
use otlp_receiver::Receiver;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

struct Process {
    name: &'static str,
    child: Child,
    stderr: BufReader<ChildStderr>,
    url: String,
}

impl Drop for Process {
    /// A failed assertion must not leave servers running.
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Starts a binary on an ephemeral port and reads the address it reports.
fn start(
    name: &'static str,
    exe: &str,
    otlp: &str,
    env: &[(&str, String)],
) -> Process {
    let mut child = Command::new(exe)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("SHUTDOWN_DEADLINE_MS", "5000")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    // "NAME: listening on 127.0.0.1:PORT with N worker threads (...)"
    let addr = line
        .split_whitespace()
        .nth(3)
        .unwrap_or_else(|| panic!("{name} said {line:?}"));
    Process {
        name,
        child,
        stderr,
        url: format!("http://{addr}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_one_trace_then_sigterm_exits_zero() {
    let receiver = Receiver::start().await.unwrap();
    let otlp = receiver.http_endpoint();
    let user = start("user", env!("CARGO_BIN_EXE_user"), &otlp, &[]);
    let payment = start("payment", env!("CARGO_BIN_EXE_payment"), &otlp, &[]);
    let order = start(
        "order",
        env!("CARGO_BIN_EXE_order"),
        &otlp,
        &[
            ("USER_URL", user.url.clone()),
            ("PAYMENT_URL", payment.url.clone()),
        ],
    );
    let gateway = start(
        "gateway",
        env!("CARGO_BIN_EXE_gateway"),
        &otlp,
        &[("ORDER_URL", order.url.clone())],
    );

    let response = reqwest::Client::new()
        .post(format!("{}/api/orders", gateway.url))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{TRACE_ID}-b7ad6b7169203331-01"))
        .body(r#"{"user":"grace","amount_cents":990}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    let mut transcripts = Vec::new();
    for mut p in [gateway, order, user, payment] {
        let kill = format!("kill -TERM {}", p.child.id());
        let status = Command::new("sh").args(["-c", &kill]).status().unwrap();
        assert!(status.success());
        let exit = tokio::task::spawn_blocking(move || {
            let exit = p.child.wait().unwrap();
            let mut rest = String::new();
            for line in p.stderr.by_ref().lines() {
                rest.push_str(&line.unwrap());
                rest.push('\n');
            }
            (p.name, exit, rest)
        })
        .await
        .unwrap();
        transcripts.push(exit);
    }
    for (name, exit, rest) in &transcripts {
        assert!(exit.success(), "{name} exited with {exit}:\n{rest}");
        assert!(rest.contains("SIGTERM"), "{name}:\n{rest}");
        assert!(
            rest.contains(&format!("{name}: drained")),
            "{name}:\n{rest}"
        );
    }

    // Every process flushed before exiting: the whole trace is there.
    let trace_id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let spans = tree::of_trace(&tree::received_spans(&receiver), &trace_id);
    assert_eq!(
        tree::render(&spans),
        "\
POST /api/orders  [gateway, server]  201
└─ POST  [gateway, client]  201
   └─ POST /orders  [order, server]  201
      ├─ GET  [order, client]  200
      │  └─ GET /users/{id}  [user, server]  200
      └─ POST  [order, client]  201
         └─ POST /charges  [payment, server]  201
"
    );
    // Logs carry the trace id of the request they were written in.
    let logs: Vec<_> = receiver
        .log_records()
        .into_iter()
        .filter(|r| r.trace_id == trace_id)
        .collect();
    assert_eq!(logs.len(), 4, "one \"request served\" record per service");
    // RED: the duration histograms came too, flushed at shutdown.
    let metrics: Vec<String> =
        receiver.metric_list().into_iter().map(|m| m.name).collect();
    for name in [
        "http.server.request.duration",
        "http.client.request.duration",
    ] {
        assert!(
            metrics.iter().any(|m| m == name),
            "{name} missing from {metrics:?}"
        );
    }
    assert_eq!(
        metrics
            .iter()
            .filter(|m| *m == "http.server.request.duration")
            .count(),
        4,
        "one server histogram per service"
    );
    receiver.shutdown().await;
}
