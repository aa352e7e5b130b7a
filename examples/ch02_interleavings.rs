//! Chapter 2, "CSP as a programming model": the CSP traces of a parallel
//! composition `P ‖ Q` of two sequential processes, found by trying every
//! interleaving of their events. Of the three cases, one can never move.
//!
//! Run it with `cargo run --example ch02_interleavings`.

use std::collections::BTreeSet;

// ANCHOR: next
type Event = &'static str;
/// A sequential process: the events it engages in, in order. Its alphabet
/// is the set of those events.
type Process = &'static [Event];

/// The events P ‖ Q can engage in next, and what each leaves of P and Q.
/// A shared event (in both alphabets) needs both processes at once; any
/// other event is taken by its own process alone.
fn next(p: Process, q: Process, shared: &[Event]) -> Vec<(Event, Process, Process)> {
    let mut moves = Vec::new();
    if let (Some((&a, p2)), Some((&b, q2))) = (p.split_first(), q.split_first())
        && a == b
        && shared.contains(&a)
    {
        moves.push((a, p2, q2));
    }
    if let Some((&a, p2)) = p.split_first()
        && !shared.contains(&a)
    {
        moves.push((a, p2, q));
    }
    if let Some((&b, q2)) = q.split_first()
        && !shared.contains(&b)
    {
        moves.push((b, p, q2));
    }
    moves
}
// ANCHOR_END: next

// ANCHOR: runs
type Traces = BTreeSet<Vec<Event>>;

/// Every way P ‖ Q can run: the complete traces, and the traces after
/// which nothing can happen although P or Q has not finished (deadlocks).
fn runs(p: Process, q: Process) -> (Traces, Traces) {
    let shared: Vec<Event> = p.iter().copied().filter(|e| q.contains(e)).collect();
    let (mut complete, mut deadlocked) = (BTreeSet::new(), BTreeSet::new());
    let mut todo = vec![(Vec::new(), p, q)];
    while let Some((trace, p, q)) = todo.pop() {
        let moves = next(p, q, &shared);
        for &(e, p2, q2) in &moves {
            let mut longer = trace.clone();
            longer.push(e);
            todo.push((longer, p2, q2));
        }
        if moves.is_empty() && p.is_empty() && q.is_empty() {
            complete.insert(trace);
        } else if moves.is_empty() {
            deadlocked.insert(trace);
        }
    }
    (complete, deadlocked)
}
// ANCHOR_END: runs

/// Prints the traces in CSP's notation, ⟨a, b⟩, the deadlocked ones marked.
fn show(title: &str, (complete, deadlocked): (Traces, Traces)) -> Traces {
    println!("{title}: {} complete trace(s)", complete.len());
    for trace in &complete {
        println!("  ⟨{}⟩", trace.join(", "));
    }
    for trace in &deadlocked {
        println!("  deadlock after ⟨{}⟩", trace.join(", "));
    }
    complete
}

// ANCHOR: main
fn main() {
    // P = a → c.1 → b → SKIP and Q = c.1 → d → SKIP share only c.1.
    const P: Process = &["a", "c.1", "b"];
    let complete = show("P = a c.1 b, Q = c.1 d", runs(P, &["c.1", "d"]));
    // Every trace of P ‖ Q, keeping only P's events, is P's own trace.
    for trace in &complete {
        let of_p: Vec<Event> =
            trace.iter().copied().filter(|e| P.contains(e)).collect();
        assert_eq!(of_p, P);
    }

    // Nothing shared: every interleaving of two events with two others.
    show("P = a b, Q = x y", runs(&["a", "b"], &["x", "y"]));

    // P sends on a then receives on b; Q sends on b then receives on a.
    // Each waits for the other: no event can ever happen.
    show(
        "P = a.1 b.2, Q = b.2 a.1",
        runs(&["a.1", "b.2"], &["b.2", "a.1"]),
    );
}
// ANCHOR_END: main
