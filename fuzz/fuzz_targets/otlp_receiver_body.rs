#![no_main]
//! Fuzzes the OTLP receiver's HTTP body decoding (protobuf or JSON, optionally
//! gzip, for traces, metrics and logs); the invariants live in
//! `otlp_receiver::fuzzing::http_body`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_receiver::fuzzing::http_body(data);
});
