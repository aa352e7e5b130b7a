//! The book's load generator, and what chapter 21 measures with it.
//!
//! Two ways to load a service, both bounded by a request count *and* a time
//! limit (see [`Bounds`]), both only towards this machine (see [`Target`]):
//!
//! - **open loop** ([`open_loop`]): request `i` is due at `t0 + i / rate`,
//!   whether or not earlier requests have been answered. Latency is measured
//!   from the time a request was *due*, so a stall of the service counts
//!   against every request that should have been sent during it (the
//!   correction for *coordinated omission*). The time from the actual send is
//!   kept too ([`Report::service`]), to show the difference.
//! - **closed loop** ([`closed_loop`]): N connections, each sending its next
//!   request as soon as the previous one is answered: the service's
//!   throughput at saturation.
//!
//! Latencies go into HDR histograms ([`hdrhistogram`]), in nanoseconds.

pub mod affinity;
pub mod alloc;
mod bounds;
mod http_client;
pub mod procfs;
mod recorder;
mod run;
mod target;

pub use bounds::{Bounds, MAX_DURATION, MAX_REQUESTS, Schedule};
pub use http_client::HttpConnection;
pub use recorder::{Outcome, Recorder, Report};
pub use run::{Connection, closed_loop, open_loop};
pub use target::Target;

/// Why a load could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The URL does not parse, or is not plain `http://`.
    #[error("bad target URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The target is not on this machine.
    #[error(
        "refusing to send load to {host:?}: the load generator only targets 127.0.0.1, ::1 or localhost"
    )]
    NotLocal { host: String },
    /// The bounds are missing, zero or beyond the hard caps.
    #[error("bad bounds: {0}")]
    Bounds(String),
    /// The rate is not a positive finite number.
    #[error("bad rate {0}: expected requests per second > 0")]
    Rate(f64),
    /// Connecting to the target failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    /// The HTTP/1.1 handshake failed.
    #[error("HTTP handshake with {addr} failed: {reason}")]
    Handshake { addr: String, reason: String },
}
