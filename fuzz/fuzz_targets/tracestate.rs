#![no_main]
//! Fuzzes the `tracestate` parser; the invariants live in
//! `otlp_csp_telemetry::propagation::fuzzing::tracestate`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_csp_telemetry::propagation::fuzzing::tracestate(data);
});
