//! Replays the saved inputs of the fuzz target `service_request_body`
//! through the target's check (see the `fuzz-corpus` crate).

use fuzz_corpus::replay;
use otlp_csp_services::fuzzing;

#[test]
fn service_request_body_corpus() {
    replay("service_request_body", fuzzing::request_body);
}
