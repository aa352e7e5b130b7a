//! Chapter 4, "Channels compared": what a producer learns when its consumer
//! stops keeping up, through an unbounded channel and through a bounded one.
//!
//! Run it with `cargo run --example ch04_overload`.

use std::time::Duration;
use tokio::sync::mpsc::{self, error::TrySendError};

/// Requests offered while the consumer is stuck.
const OFFERED: usize = 100_000;
/// Each queued request holds this much memory until it is received.
type Request = [u8; 256];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // ANCHOR: unbounded
    // The consumer is stuck (a slow database, a full disk) and receives
    // nothing. Every send still succeeds: the queue just grows.
    let (tx, rx) = mpsc::unbounded_channel::<Request>();
    let accepted = (0..OFFERED).filter(|_| tx.send([0; 256]).is_ok()).count();
    let queued = rx.len();
    println!(
        "unbounded: {accepted} of {OFFERED} accepted, {queued} queued, {} KiB held",
        queued * size_of::<Request>() / 1024
    );
    // ANCHOR_END: unbounded

    // ANCHOR: bounded
    // The same load into a bounded channel: try_send says when it is full,
    // and the producer decides what to do (refuse, count, retry later).
    let (tx, rx) = mpsc::channel::<Request>(1024);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..OFFERED {
        match tx.try_send([0; 256]) {
            Ok(()) => accepted += 1,
            Err(TrySendError::Full(_)) => refused += 1,
            Err(TrySendError::Closed(_)) => unreachable!("the receiver is alive"),
        }
    }
    let queued = rx.len();
    println!(
        "bounded(1024), try_send: {accepted} accepted, {refused} refused as Full, \
         {queued} queued"
    );

    // send().await instead waits for room: the producer is slowed to the
    // consumer's pace (backpressure). A deadline turns the wait into an answer.
    let wait =
        tokio::time::timeout(Duration::from_millis(20), tx.send([0; 256])).await;
    assert!(wait.is_err());
    println!("bounded(1024), send().await: no room after 20ms, the producer waits");
    // ANCHOR_END: bounded
}
