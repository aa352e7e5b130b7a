//! Replays the saved inputs of the fuzz target `trace_capture` through the
//! target's check (see the `fuzz-corpus` crate).

use fuzz_corpus::replay;
use trace_view::fuzzing;

#[test]
fn trace_capture_corpus() {
    replay("trace_capture", fuzzing::capture);
}
