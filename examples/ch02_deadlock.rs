//! Chapter 2, "CSP as a programming model": a deadlock, detected and reported
//! instead of hanging. Two processes each send to the other first; then what
//! a buffer changes, and what reordering one side changes.
//!
//! Run it with `cargo run --example ch02_deadlock`.

use crossbeam_channel::{Receiver, Sender, bounded};
use std::thread;
use std::time::Duration;

/// A real deadlock waits forever; this program waits this long and says so.
/// Long enough that a slow machine is not taken for a deadlock.
const PATIENCE: Duration = Duration::from_millis(500);

// ANCHOR: exchange
// ANCHOR: send_first
/// Sends `n` messages, then receives `n`. Every step gives up after
/// `PATIENCE`, so a deadlock is reported instead of hanging the program.
fn send_first(name: &str, n: u32, out: &Sender<u32>, inp: &Receiver<u32>) -> String {
    for i in 1..=n {
        if out.send_timeout(i, PATIENCE).is_err() {
            return format!(
                "{name}: deadlock detected, stuck sending message {i} of {n}"
            );
        }
    }
    for i in 1..=n {
        if inp.recv_timeout(PATIENCE).is_err() {
            return format!(
                "{name}: deadlock detected, stuck receiving message {i} of {n}"
            );
        }
    }
    format!("{name}: sent {n}, received {n}")
}
// ANCHOR_END: send_first

/// The same exchange in the other order: receive `n`, then send `n`.
fn receive_first(
    name: &str,
    n: u32,
    out: &Sender<u32>,
    inp: &Receiver<u32>,
) -> String {
    for i in 1..=n {
        if inp.recv_timeout(PATIENCE).is_err() {
            return format!(
                "{name}: deadlock detected, stuck receiving message {i} of {n}"
            );
        }
    }
    for i in 1..=n {
        if out.send_timeout(i, PATIENCE).is_err() {
            return format!(
                "{name}: deadlock detected, stuck sending message {i} of {n}"
            );
        }
    }
    format!("{name}: received {n}, sent {n}")
}
// ANCHOR_END: exchange

type Process = fn(&str, u32, &Sender<u32>, &Receiver<u32>) -> String;

// ANCHOR: run
/// P ‖ Q, P sending to Q on channel `a` and Q to P on channel `b`.
fn run(capacity: usize, n: u32, p: Process, q: Process) {
    let (a_tx, a_rx) = bounded(capacity);
    let (b_tx, b_rx) = bounded(capacity);
    let (p_says, q_says) = thread::scope(|s| {
        let p = s.spawn(|| p("P", n, &a_tx, &b_rx));
        let q = s.spawn(|| q("Q", n, &b_tx, &a_rx));
        (p.join().unwrap(), q.join().unwrap())
    });
    println!(
        "bounded({capacity}), {n} message(s) each way:\n  {p_says}\n  {q_says}"
    );
}
// ANCHOR_END: run

// ANCHOR: main
fn main() {
    println!("-- both send first");
    run(0, 1, send_first, send_first);
    run(1, 1, send_first, send_first);
    run(1, 2, send_first, send_first);
    println!("-- Q receives first");
    run(0, 2, send_first, receive_first);
}
// ANCHOR_END: main
