#![no_main]
//! Fuzzes the `traceparent` parser; the invariants live in
//! `otlp_csp_telemetry::propagation::fuzzing::traceparent`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_csp_telemetry::propagation::fuzzing::traceparent(data);
});
