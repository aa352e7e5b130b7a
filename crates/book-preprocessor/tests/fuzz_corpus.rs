//! Replays the saved inputs of the fuzz targets `preprocessor_directives`
//! and `preprocessor_results` through the targets' checks (see the
//! `fuzz-corpus` crate).

use book_preprocessor::fuzzing;
use fuzz_corpus::replay;

#[test]
fn preprocessor_directives_corpus() {
    replay("preprocessor_directives", fuzzing::directives);
}

#[test]
fn preprocessor_results_corpus() {
    replay("preprocessor_results", fuzzing::results);
}
