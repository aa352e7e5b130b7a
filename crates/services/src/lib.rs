//! Part IV of the book: a traced system of four HTTP services.
//!
//! ```text
//! client ──► gateway ──► order ──┬──► user     (GET /users/{id}: validate)
//!                                └──► payment  (POST /charges: charge)
//! ```
//!
//! Each service is a module with a `router` function; [`http`] holds what
//! they share: the server middleware that continues the caller's trace and
//! records RED metrics, and [`http::Peer`], the outbound client with a
//! timeout, retries (idempotent calls only), a concurrency limit with load
//! shedding, and the circuit breaker of `otlp-csp-resilience`.
//! [`serve`] runs one service with phased shutdown, [`runtime`] sizes the
//! tokio runtime from the CPU quota of the container, [`system`] starts all
//! four in one process (tests and examples) and [`process`] is the `main` of
//! the four binaries.
//!
//! # Features
//!
//! - `testing`: `tree`, which reads a trace back from the in-process OTLP
//!   receiver (`otlp-receiver`) and prints it, and
//!   `SystemTelemetry::to_receiver`, which points the four services at it;
//!   for tests and examples. Off in the services' own build.
//! - `fuzzing`: `fuzzing`, the check the fuzz target for request bodies
//!   runs. The fuzz crate and the corpus replay test turn it on.
//! - `allocators`: `allocator::Chosen`, a global allocator picked at start
//!   by `OTLP_CSP_ALLOCATOR`, for comparing allocators in one run.
//! - `profile`: `profiling`, with which a service started with
//!   `OTLP_CSP_PROFILE=FILE` samples its own stacks and writes them folded.

#![warn(missing_docs)]

#[cfg(feature = "allocators")]
pub mod allocator;
pub mod config;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod gateway;
pub mod http;
pub mod order;
pub mod payment;
pub mod process;
#[cfg(feature = "profile")]
pub mod profiling;
pub mod runtime;
pub mod serve;
pub mod slow;
pub mod system;
#[cfg(feature = "testing")]
pub mod tree;
pub mod user;

pub use config::{ClientConfig, ConfigError};
pub use http::{BreakerEvent, Obs, Peer, PeerError};
pub use serve::{RunningService, ShutdownSignal, StopReport};
pub use system::{System, SystemTelemetry};
