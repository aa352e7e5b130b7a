//! Chapter 2, "CSP as a programming model": external choice (the environment
//! picks, `select!`) and internal choice (the process picks by itself), shown
//! with Hoare's vending machine.
//!
//! Run it with `cargo run --example ch02_choice`.

use crossbeam_channel::{Receiver, Sender, bounded, select};
use std::thread;
use std::time::Duration;

/// Long enough that a missing partner is the only reason to time out.
const PATIENCE: Duration = Duration::from_millis(500);

// ANCHOR: external
/// VM = coin → (choc → VM □ toffee → VM): after a coin the machine offers
/// both, and the customer's request decides. Returns the machine's trace.
fn external_machine(
    coin: Receiver<()>,
    choc: Receiver<()>,
    toffee: Receiver<()>,
) -> Vec<&'static str> {
    let mut trace = Vec::new();
    while coin.recv().is_ok() {
        trace.push("coin");
        select! {
            recv(choc) -> _ => trace.push("choc"),
            recv(toffee) -> _ => trace.push("toffee"),
        }
    }
    trace
}
// ANCHOR_END: external

// ANCHOR: internal
/// VM' = coin → (choc → VM' ⊓ toffee → VM'): the machine decides by itself
/// (here: it alternates, and the customer cannot see that) and hands out
/// what it decided. If nobody takes it, the machine gives up.
fn internal_machine(coin: Receiver<()>, choc: Sender<()>, toffee: Sender<()>) {
    for round in 0.. {
        if coin.recv().is_err() {
            return;
        }
        let out = if round % 2 == 0 { &choc } else { &toffee };
        if out.send_timeout((), PATIENCE).is_err() {
            return;
        }
    }
}
// ANCHOR_END: internal

// ANCHOR: customers
// ANCHOR: chooses
/// Buys twice from the external-choice machine: toffee, then chocolate.
fn customer_chooses() {
    let (coin_tx, coin_rx) = bounded(0);
    let (choc_tx, choc_rx) = bounded(0);
    let (toffee_tx, toffee_rx) = bounded(0);
    let machine =
        thread::spawn(move || external_machine(coin_rx, choc_rx, toffee_rx));
    for wanted in [&toffee_tx, &choc_tx] {
        coin_tx.send(()).unwrap();
        wanted.send(()).unwrap();
    }
    drop(coin_tx); // closing the coin slot ends the machine's loop
    let trace = machine.join().unwrap();
    println!("external choice, machine's trace: {trace:?}");
}
// ANCHOR_END: chooses

// ANCHOR: takes_either
/// Buys twice from the internal-choice machine, taking whatever comes out.
fn customer_takes_either() {
    let (coin_tx, coin_rx) = bounded(0);
    let (choc_tx, choc_rx) = bounded(0);
    let (toffee_tx, toffee_rx) = bounded(0);
    let machine =
        thread::spawn(move || internal_machine(coin_rx, choc_tx, toffee_tx));
    let mut got = Vec::new();
    for _ in 0..2 {
        coin_tx.send(()).unwrap();
        select! {
            recv(choc_rx) -> _ => got.push("choc"),
            recv(toffee_rx) -> _ => got.push("toffee"),
        }
    }
    drop(coin_tx);
    machine.join().unwrap();
    println!("internal choice, customer takes either: got {got:?}");
}
// ANCHOR_END: takes_either

// ANCHOR: wants_choc
/// Buys twice from the internal-choice machine, but takes only chocolate.
fn customer_wants_choc() {
    let (coin_tx, coin_rx) = bounded(0);
    let (choc_tx, choc_rx) = bounded(0);
    let (toffee_tx, _toffee_rx) = bounded(0);
    let machine =
        thread::spawn(move || internal_machine(coin_rx, choc_tx, toffee_tx));
    for round in 1..=2 {
        coin_tx.send(()).unwrap();
        let outcome = match choc_rx.recv_timeout(PATIENCE) {
            Ok(()) => "got choc",
            Err(_) => "deadlock detected",
        };
        println!("internal choice, customer wants choc: round {round} {outcome}");
    }
    drop(coin_tx);
    machine.join().unwrap();
}
// ANCHOR_END: wants_choc
// ANCHOR_END: customers

fn main() {
    customer_chooses();
    customer_takes_either();
    customer_wants_choc();
}
