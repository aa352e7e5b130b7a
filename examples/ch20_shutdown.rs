//! Chapter 20: phased shutdown. A service with one slow route is sent
//! SIGTERM (by this very process) while a request is in flight. With a drain
//! deadline longer than the request, the request completes and its span is
//! exported; with a shorter one, the request is abandoned and its span,
//! never ended, is never exported.
//!
//! Run it with `cargo run --example ch20_shutdown`.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use otlp_csp::services::http::{Obs, with_middleware};
use otlp_csp::services::{RunningService, ShutdownSignal};
use otlp_csp::telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;
use tokio::sync::mpsc;

// ANCHOR: slow
/// Says when it has started, then works for `WORK` before answering.
async fn slow(State(started): State<mpsc::UnboundedSender<()>>) -> &'static str {
    let _ = started.send(());
    tokio::time::sleep(WORK).await;
    "done"
}

const WORK: Duration = Duration::from_millis(500);
// ANCHOR_END: slow

async fn run(deadline: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let receiver = Receiver::start().await?;
    let config = TelemetryConfig::otlp(
        "slow",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    );
    let telemetry = init_with(config)?;
    let obs = Obs::new("slow", &telemetry);
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let app = with_middleware(
        Router::new()
            .route("/slow", get(slow))
            .with_state(started_tx),
        &obs,
        16,
    );
    // ANCHOR: phases
    let mut signals = ShutdownSignal::listen()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let service = RunningService::spawn("slow", listener, app, &obs);
    let in_flight = tokio::spawn(reqwest::get(format!("{}/slow", service.url())));
    started.recv().await;
    println!("one request in flight; kill -TERM <this process>");
    // The shell's built-in `kill`: present wherever `sh` is.
    let kill = format!("kill -TERM {}", std::process::id());
    std::process::Command::new("sh")
        .args(["-c", &kill])
        .status()?;

    let signal = signals.recv().await;
    println!(
        "{signal}: phase 1, stop accepting; phase 2, drain within {deadline:?}"
    );
    let report = service.stop(deadline).await;
    if report.drained {
        let response = in_flight.await??;
        println!(
            "  drained: the request got {} {:?}",
            response.status(),
            response.text().await?
        );
    } else {
        println!(
            "  deadline passed: {} request(s) abandoned",
            report.abandoned
        );
    }
    println!("phase 3, flush telemetry");
    let stats = telemetry.shutdown().await?;
    println!("  spans ended {}, exported {}", stats.ended, stats.exported);
    // ANCHOR_END: phases
    receiver.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("-- drain deadline longer than the request");
    run(Duration::from_secs(5)).await?;
    println!("-- drain deadline shorter than the request");
    run(Duration::from_millis(50)).await?;
    Ok(())
}
