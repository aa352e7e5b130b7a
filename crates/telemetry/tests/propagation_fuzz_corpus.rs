//! Replays the saved inputs of the W3C parsers' fuzz targets through the
//! targets' checks (see the `fuzz-corpus` crate).

use fuzz_corpus::replay;
use otlp_csp_telemetry::propagation::fuzzing;

#[test]
fn traceparent_corpus() {
    replay("traceparent", fuzzing::traceparent);
}

#[test]
fn tracestate_corpus() {
    replay("tracestate", fuzzing::tracestate);
}

#[test]
fn baggage_corpus() {
    replay("baggage", fuzzing::baggage);
}
