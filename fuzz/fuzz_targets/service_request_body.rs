#![no_main]
//! Fuzzes the services' JSON request bodies (the `ValidJson` extractor, the
//! order service's reading of its peers' answers, and the payment service's
//! whole router); the invariants live in
//! `otlp_csp_services::fuzzing::request_body`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_csp_services::fuzzing::request_body(data);
});
