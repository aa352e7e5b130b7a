#![no_main]
//! Fuzzes trace-view's whole path: reading a capture (OTLP/JSON, one request
//! or JSON Lines), laying it out and drawing it as HTML and Chrome JSON; the
//! invariants live in `trace_view::fuzzing::capture`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trace_view::fuzzing::capture(data);
});
