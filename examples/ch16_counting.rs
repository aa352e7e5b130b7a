//! Chapter 16: more trace sets than span forests of one run's size, so no
//! map from processes to such forests is one-to-one.

use otlp_csp::models::counting::{
    more_trace_sets_than_forests, span_forests, trace_sets,
};

fn main() {
    // ANCHOR: table
    println!(
        "{:>2} {:>2} {:>27} {:>10}",
        "k", "n", "trace sets N", "forests S"
    );
    for k in 1..=3 {
        for n in 1..=4 {
            let sets = trace_sets(k, n).expect("fits in a u128 for these sizes");
            let forests = span_forests(k, n).expect("fits in a u128");
            let more = more_trace_sets_than_forests(k, n) == Some(true);
            let verdict = if more { "N > S" } else { "N <= S" };
            println!("{k:>2} {n:>2} {sets:>27} {forests:>10}  {verdict}");
        }
    }
    // ANCHOR_END: table
}
