//! Fixtures shared by the unit tests.

pub use book_results::testutil::{
    TempDir, example_provenance, write_criterion_result,
};
