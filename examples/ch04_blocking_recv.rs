//! Chapter 4, "Channels compared": a blocking `recv()` inside async code stops
//! every other task on that thread; `spawn_blocking` or an async channel does not.
//!
//! Run it with `cargo run --example ch04_blocking_recv`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How long the thread at the other end takes to answer.
const DELAY: Duration = Duration::from_millis(50);

// ANCHOR: main
// ANCHOR: ticker
#[tokio::main(flavor = "current_thread")]
async fn main() {
    // A task that should tick every millisecond, whatever else happens.
    let ticks = Arc::new(AtomicU64::new(0));
    let counter = ticks.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(1));
        loop {
            interval.tick().await;
            counter.fetch_add(1, Relaxed);
        }
    });
    tokio::task::yield_now().await;
    // ANCHOR_END: ticker

    // ANCHOR: wrong
    // Wrong: std's recv() blocks the runtime's only thread until the answer
    // comes, and no other task runs meanwhile.
    let rx = answer_later();
    let before = ticks.load(Relaxed);
    let value = rx.recv().unwrap();
    let missed = ticks.load(Relaxed) - before;
    println!(
        "std recv() in a task: got {value}, the ticker ran {missed} times meanwhile"
    );
    // ANCHOR_END: wrong

    // ANCHOR: spawn_blocking
    // Right: hand the blocking call to tokio's pool of blocking threads and
    // await its result.
    let rx = answer_later();
    let before = ticks.load(Relaxed);
    let value = tokio::task::spawn_blocking(move || rx.recv().unwrap())
        .await
        .unwrap();
    let ran = ticks.load(Relaxed) > before;
    assert!(ran);
    println!(
        "std recv() in spawn_blocking: got {value}, the ticker kept running: {ran}"
    );
    // ANCHOR_END: spawn_blocking

    // ANCHOR: async_channel
    // Also right: an async channel. The thread uses its blocking send, the
    // task awaits, and only the task waits.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        std::thread::sleep(DELAY);
        tx.blocking_send(42).unwrap();
    });
    let before = ticks.load(Relaxed);
    let value = rx.recv().await.unwrap();
    let ran = ticks.load(Relaxed) > before;
    assert!(ran);
    println!("tokio mpsc recv().await: got {value}, the ticker kept running: {ran}");
}
// ANCHOR_END: async_channel

/// A std channel whose answer a plain thread sends after `DELAY`.
fn answer_later() -> std::sync::mpsc::Receiver<u64> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        std::thread::sleep(DELAY);
        tx.send(42).unwrap();
    });
    rx
}
// ANCHOR_END: main
