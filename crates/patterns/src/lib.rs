//! CSP patterns for the book *OTLP × CSP in Rust*, in two flavours:
//! [`threads`] (std threads and `crossbeam-channel`) and [`tasks`] (tokio).
//!
//! | pattern | threads | tasks |
//! | --- | --- | --- |
//! | pipeline of bounded stages | [`threads::Pipeline`] | [`tasks::Pipeline`] |
//! | fan-out/fan-in, in input or completion order | [`threads::FanOut`] | [`tasks::FanOut`] |
//! | worker pool with a bounded queue | [`threads::WorkerPool`] | [`tasks::WorkerPool`] |
//! | receive with a timeout and cancellation | [`threads::recv_until`] | [`tasks::recv_until`] |
//! | batching fan-in | [`threads::Batcher`] | |
//! | concurrency and rate limits | [`Rate`] (blocking) | [`tasks::Limiter`], [`Rate`] |
//!
//! Every item travels with its OpenTelemetry [`Context`](opentelemetry::Context)
//! (a [`Traced`] value), so the span that processes an item is a child of the
//! span that produced it; a batch is one span with a link to each item's span
//! (links past the provider's link limit go on child spans, [`BATCH_LINKS`]).
//! Span names, kinds and attributes follow OpenTelemetry's messaging
//! conventions, and failures its error conventions: [`messaging`] says how.
//! See [`Tracing`] for where the spans go and what the untraced path costs.
//! The crate uses the OpenTelemetry API only: the application decides
//! whether spans are recorded and where they are exported.
//!
//! Misuse is an error value, never a panic or a hang: a zero size is
//! rejected when a pattern is built ([`BuildError`]), a submit to a full or
//! shut-down pool is refused ([`SubmitError`]), a panicking job or stage is
//! reported ([`JobError`], [`Panicked`]).

#![warn(missing_docs)]

mod error;
pub mod messaging;
mod rate;
pub mod tasks;
pub mod threads;
mod trace;

pub use error::{
    BuildError, JobError, Panicked, RecvError, RunError, SendError, SubmitError,
};
pub use rate::{Rate, RateLimited};
pub use trace::{BATCH_LINKS, LINK_LIMIT, SCOPE, Traced, Tracing};

/// How a fan-in delivers results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// In the order the items went in (a reorder buffer holds early results).
    #[default]
    Input,
    /// As soon as each result is ready.
    Completion,
}

/// Counts kept by a worker pool, returned by its `shutdown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Jobs the pool accepted (`submit` returned `Ok`).
    pub accepted: u64,
    /// Jobs that ran to completion and returned a value.
    pub completed: u64,
    /// Jobs that panicked; each handle got [`JobError::Panicked`].
    pub panicked: u64,
}
