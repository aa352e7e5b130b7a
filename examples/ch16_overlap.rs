//! Chapter 16: spans that overlap in time need not be concurrent, and
//! spans that do not overlap may be.

use otlp_csp::models::clocks::{Action, Execution, Step};

/// A span: the process it runs on, and its interval on a shared clock.
struct Span {
    name: &'static str,
    start: u32,
    end: u32,
    /// The index of the span's first event in the execution.
    first_event: usize,
}

fn compare(x: &Execution, a: &Span, b: &Span) {
    let vc = x.vector();
    let overlap = a.start < b.end && b.start < a.end;
    let (ea, eb) = (&vc[a.first_event], &vc[b.first_event]);
    let concurrent = ea.concurrent(eb);
    println!(
        "{} [{}, {}] and {} [{}, {}]: overlap {overlap}, concurrent {concurrent}",
        a.name, a.start, a.end, b.name, b.start, b.end
    );
}

fn main() {
    let step = |process, action| Step { process, action };
    // ANCHOR: overlap
    // A runs on p0 from 0 to 10; at 2 it sends m0, which starts B on p1 at 5.
    let x = Execution::new(vec![
        step(0, Action::Local),      // 0: A starts (t = 0)
        step(0, Action::Send(0)),    // 1: A sends m0 (t = 2)
        step(1, Action::Receive(0)), // 2: B starts on receiving m0 (t = 5)
        step(0, Action::Local),      // 3: A ends (t = 10)
        step(1, Action::Local),      // 4: B ends (t = 15)
    ])
    .unwrap();
    let a = Span {
        name: "A",
        start: 0,
        end: 10,
        first_event: 0,
    };
    let b = Span {
        name: "B",
        start: 5,
        end: 15,
        first_event: 2,
    };
    compare(&x, &a, &b);
    // ANCHOR_END: overlap
    // ANCHOR: apart
    // C runs on p0 from 0 to 3, D on p1 from 5 to 8; they never communicate.
    let y = Execution::new(vec![
        step(0, Action::Local), // 0: C starts
        step(0, Action::Local), // 1: C ends
        step(1, Action::Local), // 2: D starts
        step(1, Action::Local), // 3: D ends
    ])
    .unwrap();
    let c = Span {
        name: "C",
        start: 0,
        end: 3,
        first_event: 0,
    };
    let d = Span {
        name: "D",
        start: 5,
        end: 8,
        first_event: 2,
    };
    compare(&y, &c, &d);
    // ANCHOR_END: apart
}
