//! Resilience for the book's services.
//!
//! - [`CircuitBreaker`]: a circuit breaker as a pure state machine (time is
//!   an argument), [`Breaker`], the thread-safe wrapper with a clock, and
//!   [`BreakerLayer`], the same as tower middleware.
//! - [`RetryBudget`]: a cap on the share of retries a client adds.
//!
//! Chapter 17 checks the breaker exhaustively; its stateright models, the
//! TLC runner and the `ch17-models` binary are in the crate
//! `resilience-models`, so that the services that depend on this one do not
//! depend on the checkers.

#![warn(missing_docs)]

pub mod breaker;
mod budget;
mod layer;
mod shared;

pub use breaker::{
    BreakerConfig, CircuitBreaker, ConfigError, Permit, Rejected, State, StateKind,
    Transition,
};
pub use budget::RetryBudget;
pub use layer::{BreakerFuture, BreakerLayer, BreakerService};
pub use shared::{Breaker, Call, CallError, Clock, MonotonicClock};
