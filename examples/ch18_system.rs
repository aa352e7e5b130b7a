//! Chapter 18: the four services on loopback ports of one process, each with
//! its own telemetry set-up exporting to an in-process OTLP receiver. A few
//! requests go through the gateway (one good, three bad); then the trace of
//! the good one is read back from the receiver and printed as a tree.
//!
//! Run it with `cargo run --example ch18_system`; add `-- --capture FILE`
//! to also write what the receiver got as OTLP/JSON Lines, which
//! `cargo run -p trace-view -- FILE -o FILE.html` draws as a waterfall.

use std::time::Duration;

use otlp_csp::services::system::{System, SystemTelemetry, shutdown_all};
use otlp_csp::services::{ClientConfig, tree};
use otlp_receiver::Receiver;

/// The caller's own trace context, as a browser or a load balancer would send it.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let capture = capture_path()?;
    // ANCHOR: start
    let receiver = Receiver::start().await?;
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver)?;
    let system = System::start(obs, ClientConfig::default()).await?;
    println!("gateway, order, user and payment are listening on 127.0.0.1");
    // ANCHOR_END: start

    // ANCHOR: requests
    let client = reqwest::Client::new();
    let requests = [
        (
            "POST",
            "/api/orders",
            r#"{"user":"ada","amount_cents":1250}"#,
        ),
        (
            "POST",
            "/api/orders",
            r#"{"user":"nobody","amount_cents":1250}"#,
        ),
        ("POST", "/api/orders", r#"{"user":"ada","amount_cents":}"#),
        (
            "POST",
            "/api/order",
            r#"{"user":"ada","amount_cents":1250}"#,
        ),
    ];
    for (i, (method, path, body)) in requests.into_iter().enumerate() {
        let url = format!("{}{path}", system.gateway_url());
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if i == 0 {
            request = request.header("traceparent", TRACEPARENT);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        println!(
            "{method} {path} {body}\n  -> {status} {}",
            response.text().await?
        );
    }
    // ANCHOR_END: requests

    // ANCHOR: tree
    // Stop the services, then flush every set-up: all spans are at the receiver.
    system.stop(Duration::from_secs(5)).await;
    let exported = shutdown_all(set_ups).await?;
    let all = tree::received_spans(&receiver);
    println!("{exported} spans exported, {} received", all.len());
    // One tree per request, in the order they were sent.
    let mut roots: Vec<_> = all
        .iter()
        .filter(|s| s.service == "gateway" && s.kind == "server")
        .collect();
    roots.sort_by_key(|s| s.start);
    for root in roots {
        println!("trace {}:", tree::hex(&root.trace_id));
        print!("{}", tree::render(&tree::of_trace(&all, &root.trace_id)));
    }
    // ANCHOR_END: tree

    // ANCHOR: capture
    // `--capture FILE`: every request the receiver got, as OTLP/JSON Lines.
    if let Some(path) = capture {
        let spans = receiver.write_trace_capture(&path)?;
        println!("wrote {spans} spans to {}", path.display());
    }
    // ANCHOR_END: capture
    receiver.shutdown().await;
    Ok(())
}

/// The FILE of `--capture FILE`, if given; any other argument is an error.
fn capture_path() -> Result<Option<std::path::PathBuf>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, file] if flag == "--capture" => Ok(Some(file.into())),
        _ => Err(format!(
            "unexpected arguments {args:?}; usage: ch18_system [--capture FILE]"
        )),
    }
}
