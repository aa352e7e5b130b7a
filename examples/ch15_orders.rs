//! Chapter 15: Mazurkiewicz traces, runs as partial orders, and the two
//! logical clocks, computed by the book's `csp-models` crate.

use otlp_csp::models::clocks::{Action, Execution, Step};
use otlp_csp::models::csp::{
    Definitions, Event, Trace, alphabet, prefix, sequence, show, stop,
};
use otlp_csp::models::lts::Lts;
use otlp_csp::models::order::{
    Independence, Pomset, equivalence_class, network_run,
};

fn word(names: &[&str]) -> Trace {
    names.iter().map(|n| Event::new(n)).collect()
}

fn main() {
    // ANCHOR: mazurkiewicz
    // Two components: one with alphabet {a, c}, one with {b, c}.
    let ind =
        Independence::of_alphabets(&[alphabet(["a", "c"]), alphabet(["b", "c"])]);
    let w = word(&["a", "b", "c"]);
    let class = equivalence_class(&w, &ind);
    let shown: Vec<String> = class.iter().map(|t| show(t)).collect();
    println!("[⟨a, b, c⟩] = {{{}}}", shown.join(", "));
    let run = Pomset::from_word(&w, &ind);
    println!("its run:   {run}");
    println!("same set:  {}", run.linearisations() == class);
    // ANCHOR_END: mazurkiewicz

    // ANCHOR: network
    // The same network as sequences: P = a → c → STOP, Q = b → c → STOP.
    let network = [
        (word(&["a", "c"]), alphabet(["a", "c"])),
        (word(&["b", "c"]), alphabet(["b", "c"])),
    ];
    let run = network_run(&network).unwrap();
    println!("network run: {run}");
    // ANCHOR_END: network

    // ANCHOR: same_traces
    // Same traces, different runs: a and b in parallel, or in either order.
    let parallel = prefix("a", stop()).interleave(prefix("b", stop()));
    let either = sequence(["a", "b"], stop()).ext(sequence(["b", "a"], stop()));
    let traces = |p| Lts::explore(&p, &Definitions::new()).unwrap().traces(4);
    println!("same traces: {}", traces(parallel) == traces(either));
    let apart = Independence::of_alphabets(&[alphabet(["a"]), alphabet(["b"])]);
    let together = Independence::of_alphabets(&[alphabet(["a", "b"])]);
    println!(
        "run of a → STOP ||| b → STOP: {}",
        Pomset::from_word(&word(&["a", "b"]), &apart)
    );
    println!(
        "runs of a → b → STOP □ b → a → STOP: {} and {}",
        Pomset::from_word(&word(&["a", "b"]), &together),
        Pomset::from_word(&word(&["b", "a"]), &together)
    );
    // ANCHOR_END: same_traces

    // ANCHOR: clocks
    // p0 sends m0 to p1; p2 works alone.
    let step = |process, action| Step { process, action };
    let x = Execution::new(vec![
        step(0, Action::Send(0)),
        step(2, Action::Local),
        step(2, Action::Local),
        step(1, Action::Receive(0)),
        step(2, Action::Local),
    ])
    .unwrap();
    let (lamport, vector, hb) = (x.lamport(), x.vector(), x.happens_before());
    for (i, s) in x.steps().iter().enumerate() {
        println!(
            "event {i} on p{}: L = {}  VC = {}",
            s.process, lamport[i], vector[i]
        );
    }
    // Event 1 (p2) and event 3 (p1): concurrent, yet L(1) < L(3).
    println!(
        "1 → 3: {}   L(1) < L(3): {}   VC(1) < VC(3): {}",
        hb[1][3],
        lamport[1] < lamport[3],
        vector[1].before(&vector[3])
    );
    // ANCHOR_END: clocks
}
