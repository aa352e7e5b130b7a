//! Chapter 21: the book's load generator against a service that stalls
//! once. The open loop sends on schedule through the stall, so the requests
//! that fell due during it are recorded as late; their service time (from
//! the moment each was actually sent) does not show it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::routing::get;
use otlp_csp::loadgen::{Bounds, HttpConnection, Schedule, Target, open_loop};

/// 100 ms, in the histograms' unit (nanoseconds).
const SLOW: u64 = 100_000_000;

// ANCHOR: main
// ANCHOR: refusals
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Load only goes to this machine, and only within two bounds.
    for url in ["http://example.com/", "http://10.1.2.3:8080/"] {
        if let Err(e) = Target::parse(url) {
            println!("{e}");
        }
    }
    if let Err(e) = Bounds::new(0, Duration::from_secs(1)) {
        println!("{e}");
    }
    // ANCHOR_END: refusals

    // ANCHOR: stalling_service
    // A service that answers at once, except its 101st request: 300 ms.
    let served = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/",
        get(move || {
            let served = served.clone();
            async move {
                if served.fetch_add(1, Ordering::SeqCst) == 100 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let target = Target::parse(&format!("http://{}/", listener.local_addr()?))?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    // ANCHOR_END: stalling_service

    // ANCHOR: load
    // One connection, one request due every millisecond, for one second.
    let connections = HttpConnection::open_many(&target, 1).await?;
    let bounds = Bounds::new(1_000, Duration::from_secs(1))?;
    let report = open_loop(connections, Schedule::new(1000.0)?, bounds).await?;

    println!("{} requests sent, {} answered", report.sent(), report.ok);
    let slow_service = report.service.count_between(SLOW, u64::MAX);
    println!("answered more than 100 ms after being sent: {slow_service}");
    let slow_latency = report.latency.count_between(SLOW, u64::MAX);
    let many = if slow_latency >= 100 {
        "100 or more"
    } else {
        "fewer than 100"
    };
    println!("answered more than 100 ms after falling due: {many}");
    Ok(())
}
// ANCHOR_END: load
// ANCHOR_END: main
