//! Chapter 19: the payment service dies and comes back. The order service's
//! breaker for it opens after three failed calls, answers 503 at once while
//! open, lets one probe through after the cool-down, and closes again.
//!
//! Run it with `cargo run --example ch19_faults`.

use std::time::Duration;

use otlp_csp::resilience::BreakerConfig;
use otlp_csp::services::system::{System, SystemTelemetry, shutdown_all};
use otlp_csp::services::{BreakerEvent, ClientConfig, tree};
use otlp_receiver::Receiver;

async fn order(
    client: &reqwest::Client,
    system: &System,
) -> Result<(u16, String), reqwest::Error> {
    let response = client
        .post(format!("{}/api/orders", system.gateway_url()))
        .header("content-type", "application/json")
        .body(r#"{"user":"ada","amount_cents":1250}"#)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = Receiver::start().await?;
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver)?;
    // ANCHOR: config
    let config = ClientConfig {
        // Open after 3 consecutive failures, for 300 ms; then 1 probe.
        breaker: BreakerConfig::new(3, Duration::from_millis(300), 1)?,
        ..ClientConfig::default()
    };
    // ANCHOR_END: config
    let mut system = System::start(obs, config).await?;
    let client = reqwest::Client::new();

    // ANCHOR: kill
    let (status, body) = order(&client, &system).await?;
    println!("payment up:    {status} {body}");
    system.stop_payment().await;
    for _ in 0..5 {
        let (status, body) = order(&client, &system).await?;
        println!("payment down:  {status} {body}");
    }
    println!(
        "breaker for payment: {:?}",
        system.payment_peer.breaker_state()
    );
    // ANCHOR_END: kill

    // ANCHOR: recover
    system.restart_payment().await?;
    // While the breaker is open every request is refused at once; the first
    // one after the cool-down is the probe.
    let (status, body) = loop {
        let (status, body) = order(&client, &system).await?;
        if status != 503 {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("payment back:  {status} {body}");
    println!(
        "breaker for payment: {:?}",
        system.payment_peer.breaker_state()
    );
    for event in system.payment_peer.breaker_events() {
        match event {
            BreakerEvent::Transition(t) => println!("  {:?} -> {:?}", t.from, t.to),
            BreakerEvent::Probe => println!("  Open -> HalfOpen (probe admitted)"),
        }
    }
    // ANCHOR_END: recover

    // ANCHOR: traces
    system.stop(Duration::from_secs(5)).await;
    shutdown_all(set_ups).await?;
    let all = tree::received_spans(&receiver);
    let mut roots: Vec<_> = all
        .iter()
        .filter(|s| s.service == "gateway" && s.kind == "server")
        .collect();
    roots.sort_by_key(|s| s.start);
    // The request that tripped the breaker (the third failure), and the first
    // refused one.
    for root in &roots[3..5] {
        println!("trace {}:", tree::hex(&root.trace_id));
        print!("{}", tree::render(&tree::of_trace(&all, &root.trace_id)));
    }
    // ANCHOR_END: traces
    receiver.shutdown().await;
    Ok(())
}
