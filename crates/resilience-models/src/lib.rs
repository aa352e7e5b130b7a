//! The models of chapter 17, checked exhaustively with
//! [stateright](https://docs.rs/stateright), and a runner for TLC, the TLA+
//! model checker, that checks the specifications in `specs/` next to them.
//!
//! - [`breaker`]: the real [`CircuitBreaker`](otlp_csp_resilience::CircuitBreaker)
//!   of `otlp-csp-resilience`, driven by a few callers and a ticking clock.
//! - [`batch`]: the batch span processor (T5), state for state the TLA+
//!   specification `specs/t5_batch/BatchSpans.tla`.
//! - [`pipeline`]: a two-stage pipeline over bounded channels.
//! - [`tlc`]: runs `tla2tools.jar` and reads its counts and counterexample.
//! - [`sany`]: runs SANY, the TLA+ parser in the same jar, on the Go report's
//!   TLA+ fragments that chapter 16 quotes (`specs/report/`).
//!
//! The binary `ch17-models` runs them all against their expected outcomes
//! and records the figures the chapter shows; `cargo xtask test` runs it.

#![warn(missing_docs)]

pub mod batch;
pub mod breaker;
pub mod pipeline;
pub mod sany;
pub mod tlc;
