//! Models checked exhaustively with [stateright](https://docs.rs/stateright).

pub mod batch;
pub mod breaker;
pub mod pipeline;
