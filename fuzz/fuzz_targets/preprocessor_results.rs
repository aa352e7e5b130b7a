#![no_main]
//! Fuzzes the parser of the book's results files; the invariants live in
//! `book_preprocessor::fuzzing::results`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    book_preprocessor::fuzzing::results(data);
});
