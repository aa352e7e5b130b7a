//! Chapter 2, "CSP as a programming model": a livelock. Two people meet in a
//! corridor; each step they tell each other which side they are on, and both
//! politely step aside. They keep communicating, and never get past.
//!
//! Run it with `cargo run --example ch02_livelock`.

use crossbeam_channel::{Receiver, Sender, bounded};
use std::thread;

/// A real livelock goes on forever; this program stops counting here.
const MAX_ROUNDS: u32 = 1000;

// ANCHOR: walker
/// One walker. Each round it exchanges sides with the other walker (`first`
/// decides who sends first, so the exchange itself cannot deadlock); on the
/// same side, it steps aside if `polite`. Returns the round they passed in.
fn walk(
    first: bool,
    polite: bool,
    out: Sender<u8>,
    inp: Receiver<u8>,
) -> Option<u32> {
    let mut side = 0;
    for round in 1..=MAX_ROUNDS {
        let theirs = if first {
            out.send(side).unwrap();
            inp.recv().unwrap()
        } else {
            let theirs = inp.recv().unwrap();
            out.send(side).unwrap();
            theirs
        };
        if theirs != side {
            return Some(round);
        }
        if polite {
            side = 1 - side;
        }
    }
    None
}
// ANCHOR_END: walker

/// Both walkers in parallel; what the first one reports.
fn corridor(p_polite: bool, q_polite: bool) -> Option<u32> {
    let (p_tx, q_rx) = bounded(0);
    let (q_tx, p_rx) = bounded(0);
    thread::scope(|s| {
        let p = s.spawn(move || walk(true, p_polite, p_tx, p_rx));
        let q = s.spawn(move || walk(false, q_polite, q_tx, q_rx));
        let (p, q) = (p.join().unwrap(), q.join().unwrap());
        assert_eq!(p, q, "both see the same rounds");
        p
    })
}

// ANCHOR: main
fn main() {
    let cases = [("both polite", true, true), ("only P polite", true, false)];
    for (title, p_polite, q_polite) in cases {
        match corridor(p_polite, q_polite) {
            Some(round) => println!("{title}: passed in round {round}"),
            None => println!(
                "{title}: still face to face after {MAX_ROUNDS} rounds: livelock"
            ),
        }
    }
}
// ANCHOR_END: main
