//! The book's one results format, and the way a run writes into it.
//!
//! Every figure the book prints comes from a measurement: criterion's
//! timings (read by the book preprocessor from criterion's own files) and
//! everything else a run measures — bytes per span, spans dropped, states a
//! model checker explored, a counterexample trace. The latter are written
//! by the run itself with [`record()`]:
//!
//! ```no_run
//! use book_results::{Measurement, record};
//! record("ch08_encoding", vec![
//!     Measurement::count("ch08_encoding/json_bytes_per_span", 512.0, "bytes"),
//! ])?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! A chapter then cites `{{#bench ch08_encoding/json_bytes_per_span}}`, or
//! `{{#result-text ID}}` for a measurement's text. The committed fallback for
//! a build that has not run anything is `book/benchmarks/baseline.json`,
//! a [`ResultsFile`] too.

pub mod clock;
pub mod criterion;
pub mod paired;
pub mod profile;
pub mod provenance;
pub mod record;
pub mod results;
#[doc(hidden)]
pub mod testutil;

pub use provenance::{Machine, Origin, Provenance};
pub use record::{RESULTS_DIR_VARIABLE, record, results_dir, workspace_root};
pub use results::{FORMAT_VERSION, Measurement, ResultsFile, read_results_dir};
