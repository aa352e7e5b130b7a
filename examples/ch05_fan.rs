//! Chapter 5, "Patterns": fan-out/fan-in, with results in input order and in
//! completion order, on threads and on tokio tasks.
//!
//! Run it with `cargo run --example ch05_fan`.

use std::time::Duration;

use otlp_csp::patterns::{Order, tasks, threads};

// ANCHOR: threads
// ANCHOR: input_order
fn threads_fan() -> Result<(), Box<dyn std::error::Error>> {
    // Three workers; results come back in input order, however they finish.
    let fan = threads::FanOut::new(3)?;
    let squares = fan.map(1..=9u64, |n| n * n)?;
    println!("input order:      {squares:?}");
    // ANCHOR_END: input_order
    // ANCHOR: completion_order

    // Completion order. Item 1 is held until the other eight have arrived,
    // so it must come last.
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let mut arrived = Vec::new();
    fan.order(Order::Completion).run(
        1..=9u64,
        |n| {
            if n == 1 {
                gate.recv().ok();
            }
            n * n
        },
        |square| {
            arrived.push(square);
            if arrived.len() == 8 {
                release.send(()).ok();
            }
        },
    )?;
    println!("completion order: item 1 arrived last: {}", arrived[8] == 1);
    arrived.sort_unstable();
    println!(
        "same results, none lost or repeated: {}",
        arrived == squares
    );
    Ok(())
}
// ANCHOR_END: completion_order
// ANCHOR_END: threads

// ANCHOR: tasks
async fn tokio_fan() -> Result<(), Box<dyn std::error::Error>> {
    // At most 4 tasks at a time, one task per item.
    let fan = tasks::FanOut::new(4)?;
    let lengths = fan
        .map(["otlp", "csp", "rust", "tokio"], |word| async move {
            tokio::time::sleep(Duration::from_millis(1)).await; // stands in for I/O
            word.len()
        })
        .await?;
    println!("tokio, input order: {lengths:?}");
    Ok(())
}
// ANCHOR_END: tasks

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    threads_fan()?;
    tokio_fan().await
}
