//! Chapter 2, "CSP as a programming model": parallel composition. Three
//! sequential processes, each a thread, share nothing but the channels that
//! connect them; the composition behaves like one process.
//!
//! Run it with `cargo run --example ch02_pipeline`.

use crossbeam_channel::{Receiver, Sender, bounded};
use std::thread;

// ANCHOR: processes
/// GEN = out!1 → out!2 → … → out!n → SKIP
fn generate(n: u64, out: Sender<u64>) {
    for i in 1..=n {
        out.send(i).unwrap();
    }
    // Returning drops `out`: the next process sees the end of the stream.
}

/// SQ = in?x → out!(x·x) → SQ, until its input ends.
fn square(input: Receiver<u64>, out: Sender<u64>) {
    for x in input {
        out.send(x * x).unwrap();
    }
}

/// SUM = in?x → SUM, adding up what it receives, until its input ends.
fn sum(input: Receiver<u64>) -> u64 {
    input.iter().sum()
}
// ANCHOR_END: processes

// ANCHOR: main
fn main() {
    // GEN ‖ SQ ‖ SUM, joined by two rendezvous channels `a` and `b`.
    let (a_tx, a_rx) = bounded(0);
    let (b_tx, b_rx) = bounded(0);
    let total = thread::scope(|s| {
        s.spawn(|| generate(10, a_tx));
        s.spawn(|| square(a_rx, b_tx));
        sum(b_rx)
    });
    println!("sum of the squares of 1..=10: {total}");
    assert_eq!(total, (1..=10u64).map(|x| x * x).sum::<u64>());
}
// ANCHOR_END: main
