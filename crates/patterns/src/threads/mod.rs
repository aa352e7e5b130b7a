//! The patterns on OS threads connected by bounded `crossbeam-channel`s:
//! for CPU-bound work and for code that blocks.

mod batch;
mod cancel;
mod fan;
mod pipeline;
mod pool;

pub use batch::Batcher;
pub use cancel::{CancelToken, recv_until};
pub use fan::FanOut;
pub use pipeline::{Input, Output, Pipeline};
pub use pool::{JobHandle, WorkerPool};

/// Spawns a named thread, turning the OS's refusal into an error.
fn spawn<T: Send + 'static>(
    what: &'static str,
    name: String,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, crate::BuildError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(f)
        .map_err(|source| crate::BuildError::Spawn { what, source })
}
