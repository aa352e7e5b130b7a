//! What the four services share: telemetry handles, the server middleware,
//! the JSON body extractor and the resilient outbound client.

mod client;
mod extract;
mod obs;
mod server;

pub use client::{BreakerEvent, MAX_ANSWER_BYTES, Peer, PeerError, is_idempotent};
pub use extract::{ValidJson, Validate};
pub use obs::{Obs, attr};
pub use server::{
    BODY_READ_TIMEOUT, MAX_BODY_BYTES, error_response, json_rejection, not_found,
    with_middleware,
};
