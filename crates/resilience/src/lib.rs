//! Resilience for the book's services, and the models of chapter 17.
//!
//! - [`CircuitBreaker`]: a circuit breaker as a pure state machine (time is
//!   an argument), [`Breaker`], the thread-safe wrapper with a clock, and
//!   [`BreakerLayer`], the same as tower middleware.
//! - [`models`]: the stateright models that chapter 17 checks exhaustively:
//!   the breaker itself, the batch span processor (T5) and a two-stage
//!   pipeline; [`tlc`] runs the TLA+ specifications next to them.

#![warn(missing_docs)]

pub mod breaker;
mod layer;
pub mod models;
mod shared;
pub mod tlc;

pub use breaker::{
    BreakerConfig, CircuitBreaker, ConfigError, Permit, Rejected, State, StateKind, Transition,
};
pub use layer::{BreakerFuture, BreakerLayer, BreakerService};
pub use shared::{Breaker, Call, CallError, Clock, MonotonicClock};
