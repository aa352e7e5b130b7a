//! Chapter 13, "Metrics and logs next to traces": observable (asynchronous)
//! instruments. A gauge reads a channel's length and a counter reads a total
//! the producer keeps; the SDK calls both back once per collection, on the
//! reader's thread, and what happens between two collections is not seen.
//!
//! Run it with `cargo run --example ch13_observable`. With no `OTEL_*`
//! variables set, each collection prints one line per data point.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::global;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = otlp_csp::telemetry::init("ch13-observable")?;
    let meter = global::meter("ch13");
    let (jobs, queue) = crossbeam_channel::bounded::<u32>(64);
    let sent = Arc::new(AtomicU64::new(0));

    // ANCHOR: callbacks
    // The queue's length now: a gauge, read when the SDK collects.
    let waiting = queue.clone();
    let _depth = meter
        .u64_observable_gauge("jobs.queue.depth")
        .with_unit("{job}")
        .with_callback(move |observer| {
            let thread = std::thread::current();
            println!("callback on thread {}", thread.name().unwrap_or("?"));
            observer.observe(waiting.len() as u64, &[]);
        })
        .build();
    // A total the producer keeps anyway: the counter reports it as it is.
    let total = Arc::clone(&sent);
    let _sent = meter
        .u64_observable_counter("jobs.sent")
        .with_unit("{job}")
        .with_callback(move |observer| {
            observer.observe(total.load(Ordering::Relaxed), &[]);
        })
        .build();
    // ANCHOR_END: callbacks

    // ANCHOR: run
    let send = |n: u32| -> Result<(), crossbeam_channel::SendError<u32>> {
        for job in 0..n {
            jobs.send(job)?;
            sent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    };
    send(5)?;
    println!("-- collection 1: 5 sent, 5 waiting");
    telemetry.meter_provider().force_flush()?;

    send(10)?; // a burst of 10, taken at once: no collection sees it
    for _ in 0..13 {
        queue.recv()?;
    }
    println!("-- collection 2: 15 sent, 2 waiting");
    telemetry.shutdown_blocking()?;
    // ANCHOR_END: run
    Ok(())
}
