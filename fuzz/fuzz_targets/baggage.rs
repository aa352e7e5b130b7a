#![no_main]
//! Fuzzes the `baggage` parser; the invariants live in
//! `otlp_csp_telemetry::propagation::fuzzing::baggage`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_csp_telemetry::propagation::fuzzing::baggage(data);
});
