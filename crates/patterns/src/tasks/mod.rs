//! The patterns on tokio tasks connected by bounded `tokio::sync::mpsc`
//! channels: for I/O-bound work, many more tasks than threads.
//!
//! Everything here must run inside a tokio runtime with time enabled
//! (`#[tokio::main]` enables it); starting a pattern outside one is a
//! [`BuildError::NoRuntime`](crate::BuildError), not a panic.

mod fan;
mod limit;
mod pipeline;
mod pool;
mod select;

pub use fan::FanOut;
pub use limit::{Limiter, LimiterClosed};
pub use pipeline::{Input, Output, Pipeline};
pub use pool::{JobHandle, WorkerPool};
pub use select::recv_until;
/// tokio-util's cancellation token, which the tasks flavour uses throughout.
pub use tokio_util::sync::CancellationToken;

use crate::BuildError;
use std::future::Future;

fn runtime(what: &'static str) -> Result<tokio::runtime::Handle, BuildError> {
    tokio::runtime::Handle::try_current().map_err(|_| BuildError::NoRuntime { what })
}

/// Runs `fut` unless `cancel` fires first (`None` then). Cancellation wins a tie.
async fn unless_cancelled<F: Future>(
    cancel: Option<&CancellationToken>,
    fut: F,
) -> Option<F::Output> {
    match cancel {
        None => Some(fut.await),
        Some(token) => tokio::select! {
            biased;
            () = token.cancelled() => None,
            out = fut => Some(out),
        },
    }
}
