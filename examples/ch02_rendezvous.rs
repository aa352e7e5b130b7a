//! Chapter 2, "CSP as a programming model": a zero-capacity channel is CSP's
//! rendezvous, where a send and its receive happen together; a buffered
//! channel lets the sender run ahead of its receiver.
//!
//! Run it with `cargo run --example ch02_rendezvous`.

use crossbeam_channel::{SendTimeoutError, bounded};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

// ANCHOR: ahead
/// How many messages a sender gets in while nobody receives.
fn sent_without_receiver(capacity: usize) -> usize {
    let (tx, _rx) = bounded(capacity);
    let mut sent = 0;
    // try_send never waits: it fails as soon as the send would have to.
    while tx.try_send(sent).is_ok() {
        sent += 1;
    }
    sent
}
// ANCHOR_END: ahead

// ANCHOR: handover
/// Sends one message and reports whether the receiver had already reached
/// its `recv` when `send` returned. With a buffer the receiver is held back
/// by a gate until after the send, to show that the sender did not wait.
fn receiver_was_there(capacity: usize) -> bool {
    let (tx, rx) = bounded(capacity);
    let (open_gate, gate) = bounded::<()>(1);
    let reached_recv = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            if capacity > 0 {
                gate.recv().unwrap();
            }
            reached_recv.store(true, SeqCst);
            rx.recv().unwrap()
        });
        tx.send("coin").unwrap();
        let there = reached_recv.load(SeqCst);
        open_gate.send(()).unwrap();
        there
    })
}
// ANCHOR_END: handover

// ANCHOR: main
fn main() {
    for capacity in [0, 1, 4] {
        let n = sent_without_receiver(capacity);
        println!("bounded({capacity}): {n} sent while nobody received");
    }

    // A rendezvous needs both sides: with nobody receiving, waiting is useless.
    let (tx, _rx) = bounded::<&str>(0);
    match tx.send_timeout("coin", Duration::from_millis(50)) {
        Err(SendTimeoutError::Timeout(msg)) => {
            println!(
                "bounded(0), nobody receiving: send timed out, {msg:?} came back"
            )
        }
        other => panic!("unexpected: {other:?}"),
    }

    for capacity in [0, 1] {
        let there = receiver_was_there(capacity);
        let what = "receiver already in recv when send returned";
        println!("bounded({capacity}): {what}: {there}");
    }
}
// ANCHOR_END: main
