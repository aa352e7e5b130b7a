//! What can go wrong while starting a receiver or waiting for data.

use std::net::SocketAddr;
use std::time::Duration;

/// What can go wrong while starting a receiver or waiting for data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the OS refused.
        source: std::io::Error,
    },
    /// Fewer items than waited for arrived before the timeout.
    #[error("timed out after {after:?} waiting for {wanted} {what}: {got} arrived")]
    Timeout {
        /// What was counted: "spans", "metric points" or "log records".
        what: &'static str,
        /// How many were waited for.
        wanted: usize,
        /// How many had arrived when the time ran out.
        got: usize,
        /// The timeout.
        after: Duration,
    },
}
