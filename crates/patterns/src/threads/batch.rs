//! A batching fan-in: many items, from many traces, become one unit of work.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{BuildError, nonzero};
use crate::trace::{Traced, Tracing};

/// Groups items from a channel into batches of at most `max` items, waiting
/// at most `linger` after a batch's first item for it to fill.
///
/// Each batch is processed under one span (`batch`, with `batch.size`) that
/// starts a new trace and links to the span of every item in it: a span has
/// one parent, and a batch has many producers.
#[derive(Clone, Debug)]
pub struct Batcher {
    max: usize,
    linger: Duration,
    tracing: Tracing,
}

impl Batcher {
    /// Batches of at most `max` items (at least 1), each closed `linger` after its first item.
    pub fn new(max: usize, linger: Duration) -> Result<Self, BuildError> {
        Ok(Self {
            max: nonzero(max, "batch size")?,
            linger,
            tracing: Tracing::global(),
        })
    }

    /// Where the batch spans go (default: [`Tracing::global`]).
    pub fn tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    /// Takes items from `rx` until every sender is gone, calling `f` on each
    /// batch on this thread, inside the batch's span. Returns the number of batches.
    pub fn run<T>(
        &self,
        rx: &Receiver<Traced<T>>,
        mut f: impl FnMut(Vec<T>),
    ) -> usize {
        let mut batches = 0;
        // Block for the first item of each batch; then fill it until full,
        // until the deadline, or until the channel is closed.
        while let Ok(first) = rx.recv() {
            let deadline = Instant::now() + self.linger;
            let mut batch = vec![first];
            let mut closed = false;
            while batch.len() < self.max {
                match rx.recv_deadline(deadline) {
                    Ok(item) => batch.push(item),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            let step = self.tracing.batch(
                "batch",
                batch.iter().map(|t| &t.cx),
                batch.len(),
            );
            {
                let _in_span = step.context().clone().attach();
                f(batch.into_iter().map(|t| t.value).collect());
            }
            step.end();
            batches += 1;
            if closed {
                break;
            }
        }
        batches
    }
}
