//! Every inline rust block of the book, compiled and run (see build.rs).

include!(concat!(env!("OUT_DIR"), "/skeptic-tests.rs"));

mod summary {
    include!(concat!(env!("OUT_DIR"), "/summary.rs"));
}

/// Prints the tally `cargo xtask test` reports, and fails if the book has
/// rust blocks that are neither run nor covered by a cargo target.
#[test]
fn summary() {
    println!(
        "skeptic: {} rust blocks compiled and run, {} compiled only (no_run), {} ignored, \
         {} covered by compiled examples/benches",
        summary::RUN,
        summary::COMPILE_ONLY,
        summary::IGNORED,
        summary::COVERED_BY_TARGETS
    );
    // Checked when this test compiles: a book with no tested block fails the build.
    const {
        assert!(
            summary::RUN + summary::COVERED_BY_TARGETS > 0,
            "no rust block in the book was tested: is book/src empty?"
        )
    };
}
