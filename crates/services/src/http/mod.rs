//! What the four services share: telemetry handles, the server middleware
//! and the resilient outbound client.

mod client;
mod obs;
mod server;

pub use client::{BreakerEvent, Peer, PeerError, is_idempotent};
pub use obs::{Obs, attr};
pub use server::{
    BODY_READ_TIMEOUT, MAX_BODY_BYTES, error_response, json_rejection, not_found, with_middleware,
};
