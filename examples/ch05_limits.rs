//! Chapter 5, "Patterns": limiting how many calls run at once (a tokio
//! semaphore) and how fast they start (a `governor` rate limit).
//!
//! Run it with `cargo run --example ch05_limits`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use otlp_csp::patterns::{Rate, tasks};
use tokio::task::JoinSet;

// ANCHOR: limiter
// ANCHOR: limited_calls
async fn limits() -> Result<(), Box<dyn std::error::Error>> {
    // At most 3 calls at once, starting at most 50 a second after a burst of 5.
    let limiter = tasks::Limiter::new(3)?.with_rate(Rate::per_second(50, 5)?);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));

    let start = Instant::now();
    let mut calls = JoinSet::new();
    for _ in 0..15 {
        let (limiter, running, peak) =
            (limiter.clone(), running.clone(), peak.clone());
        calls.spawn(async move {
            limiter
                .run(async {
                    peak.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await; // the call
                    running.fetch_sub(1, SeqCst);
                })
                .await
        });
    }
    // ANCHOR_END: limited_calls
    // ANCHOR: limits_held
    let finished = calls
        .join_all()
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count();
    let elapsed = start.elapsed();
    println!("{finished} calls, at most {} at once", peak.load(SeqCst));
    // 5 start at once; the other 10 each wait for a cell, one every 20 ms.
    println!(
        "took at least 10 × 20ms: {}",
        elapsed >= Duration::from_millis(195)
    );

    // A closed limiter refuses new calls instead of running them.
    limiter.close();
    println!("after close: {:?}", limiter.run(async { 1 }).await);
    Ok(())
}
// ANCHOR_END: limits_held
// ANCHOR_END: limiter

// ANCHOR: blocking
fn blocking_rate() -> Result<(), Box<dyn std::error::Error>> {
    // The same rate limit from plain threads: wait, or ask.
    let rate = Rate::per_second(10, 2)?;
    rate.acquire_blocking();
    rate.acquire_blocking();
    match rate.try_acquire() {
        Ok(()) => println!("unexpected: a third cell in the burst"),
        Err(limited) => println!(
            "third call: rate limited, retry within 100ms: {}",
            limited.retry_after <= Duration::from_millis(100)
        ),
    }
    Ok(())
}
// ANCHOR_END: blocking

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    limits().await?;
    blocking_rate()
}
