//! Chapter 13.1: where a `tracing` span's parent gets lost, and the one-line
//! fix for each place. Every case runs a `request` span with one `work`
//! child: broken, `work` starts a trace of its own (`parent=none`); fixed,
//! it is the request's child.
//!
//! Run it with `cargo run --example ch13_tracing_async`.

use otlp_csp::telemetry::{TelemetryConfig, init_with};
use tracing::{Instrument, Span, info_span, instrument};
use tracing_subscriber::prelude::*;

#[instrument]
async fn work(step: &'static str) {
    tokio::task::yield_now().await; // a real suspension point
}

#[instrument]
fn blocking_work(step: &'static str) {}

// ANCHOR: spawn
async fn spawned(fixed: bool) -> Result<(), tokio::task::JoinError> {
    if fixed {
        // The new task runs inside the caller's span.
        tokio::spawn(work("spawn").in_current_span()).await
    } else {
        // A new task starts with no span at all.
        tokio::spawn(work("spawn")).await
    }
}
// ANCHOR_END: spawn

// ANCHOR: blocking
async fn blocking(fixed: bool) -> Result<(), tokio::task::JoinError> {
    let span = Span::current();
    if fixed {
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| blocking_work("blocking"))
        })
        .await
    } else {
        tokio::task::spawn_blocking(|| blocking_work("blocking")).await
    }
}
// ANCHOR_END: blocking

// ANCHOR: channel
fn channel(fixed: bool) {
    // The span travels in the message, as a Context does in chapter 1.
    let (tx, rx) = crossbeam_channel::bounded::<(Span, u32)>(1);
    let consumer = std::thread::spawn(move || {
        for (parent, item) in rx {
            let span = if fixed {
                info_span!(parent: &parent, "consume", item)
            } else {
                info_span!("consume", item) // this thread has no current span
            };
            span.in_scope(|| {});
        }
    });
    tx.send((Span::current(), 1))
        .expect("the consumer is running");
    drop(tx);
    consumer.join().expect("the consumer does not panic");
}
// ANCHOR_END: channel

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TelemetryConfig {
        log_bridge: false,
        ..TelemetryConfig::from_env("ch13-tracing-async")?
    };
    let telemetry = init_with(config)?;
    tracing_subscriber::registry()
        .with(telemetry.tracing_layer())
        .try_init()?;

    for fixed in [false, true] {
        let how = if fixed { "fixed" } else { "broken" };
        spawned(fixed)
            .instrument(info_span!("request", case = "spawn", how))
            .await?;
        blocking(fixed)
            .instrument(info_span!("request", case = "spawn_blocking", how))
            .await?;
        info_span!("request", case = "channel", how).in_scope(|| channel(fixed));
    }

    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
