//! Replays the saved inputs of the fuzz target `otlp_receiver_body` through
//! the target's check (see the `fuzz-corpus` crate).

use fuzz_corpus::replay;
use otlp_receiver::fuzzing;

#[test]
fn otlp_receiver_body_corpus() {
    replay("otlp_receiver_body", fuzzing::http_body);
}
