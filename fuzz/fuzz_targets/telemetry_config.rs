#![no_main]
//! Fuzzes the telemetry configuration read from `OTEL_*` variables; the invariants live in
//! `otlp_csp_telemetry::config_fuzzing::telemetry_config`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_csp_telemetry::config_fuzzing::telemetry_config(data);
});
