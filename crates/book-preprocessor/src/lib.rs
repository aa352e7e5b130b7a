//! mdBook preprocessor for the book *OTLP × CSP in Rust*.
//!
//! It runs before mdBook's `links` preprocessor and
//!
//! * fails the build when an `{{#include}}`, `{{#rustdoc_include}}` or
//!   `{{#playground}}` names a missing file, anchor or line range
//!   ([`includes`]), where mdBook would only warn or render an empty block;
//! * replaces `{{#bench GROUP/FUNCTION[/PARAM]}}` with the measured figure and
//!   `{{#bench-table GROUP}}` with a table and chart ([`render`], [`chart`]),
//!   read from criterion's output ([`criterion`]) or, when a benchmark has
//!   not run, from the committed baseline ([`baseline`]), each marked with
//!   where and when it was measured ([`provenance`]);
//! * replaces `{{#trace GROUP/NAME}}` with a waterfall of a recorded trace
//!   capture ([`waterfall`], drawn by `trace_view`).
//!
//! Its `listings` command measures the chapters' code blocks as a reader sees
//! them and fails on one over budget without a reason ([`listings`]).
//!
//! The binary is a thin wrapper around [`cli::run`].

pub mod baseline;
pub mod catalogue;
pub mod chart;
pub mod cli;
pub mod directive;
pub mod flame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod includes;
pub mod listings;
pub mod paths;
pub mod preprocess;
pub mod render;
pub mod scale;
pub mod series;
pub mod waterfall;

// The results format is its own crate, so that runs can write it without
// depending on mdBook; these keep the paths `crate::results` etc. working.
pub use book_results::{clock, criterion, provenance, results};

#[cfg(test)]
mod testutil;
