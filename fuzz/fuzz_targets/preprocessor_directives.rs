#![no_main]
//! Fuzzes the book preprocessor's `{{#bench}}` directive finder and include
//! selection; the invariants live in
//! `book_preprocessor::fuzzing::directives`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    book_preprocessor::fuzzing::directives(data);
});
