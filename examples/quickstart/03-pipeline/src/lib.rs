//! The shop: the code this quick start builds, one step at a time.

pub mod pipeline;
pub mod telemetry;
pub mod tree_printer;
