//! The errors of every pattern, in one place so that a reader can see what
//! each one can refuse.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a pattern could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A size that must be at least 1 was 0: zero workers never run a job, a
    /// zero-permit limit never admits one, and tokio cannot make a channel of
    /// capacity 0.
    #[error("{what} must be at least 1, got 0")]
    Zero {
        /// Which size, e.g. `"pipeline capacity"`.
        what: &'static str,
    },
    /// A size above what the underlying primitive can hold.
    #[error("{what} must be at most {max}")]
    TooLarge {
        /// Which size.
        what: &'static str,
        /// The largest allowed.
        max: usize,
    },
    /// A tokio flavour was started outside a tokio runtime.
    #[error("{what} must be started inside a tokio runtime")]
    NoRuntime {
        /// Which pattern.
        what: &'static str,
    },
    /// The operating system refused a thread.
    #[error("cannot start a thread for {what}: {source}")]
    Spawn {
        /// Which pattern.
        what: &'static str,
        /// The error from the OS.
        source: std::io::Error,
    },
}

pub(crate) fn nonzero(
    value: usize,
    what: &'static str,
) -> Result<usize, BuildError> {
    if value == 0 {
        Err(BuildError::Zero { what })
    } else {
        Ok(value)
    }
}

/// A stage, item or worker panicked; the pattern reports it instead of
/// losing the panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} panicked: {message}")]
pub struct Panicked {
    /// Where, e.g. ``"stage `parse`"`` or `"item 3"`.
    pub what: String,
    /// The panic's message.
    pub message: String,
}

/// Settles one pool job, the same way in both flavours: a panic is recorded
/// on the job's span and is counted and reported as [`JobError::Panicked`];
/// a success is counted; either way the span ends.
pub(crate) fn settle_job<R>(
    outcome: std::thread::Result<R>,
    step: crate::trace::Step,
    completed: &AtomicU64,
    panicked: &AtomicU64,
) -> Result<R, JobError> {
    let outcome = outcome.map_err(|payload| {
        let message = panic_message(payload.as_ref());
        step.panicked(&message);
        panicked.fetch_add(1, Ordering::Relaxed);
        JobError::Panicked(message)
    });
    if outcome.is_ok() {
        completed.fetch_add(1, Ordering::Relaxed);
    }
    step.end();
    outcome
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// Why a run (a fan-out, or a pipeline fed from an iterator) did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pattern could not start.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A stage or an item's function panicked; the run stopped there.
    #[error(transparent)]
    Panicked(#[from] Panicked),
}

/// A value could not be sent into a pattern; the value is handed back.
#[derive(PartialEq, Eq, thiserror::Error)]
pub enum SendError<T> {
    /// Nothing receives any more: the consumer dropped its end, or the
    /// receiving stage stopped (join the output to see whether it panicked).
    #[error("the receiving side is gone")]
    Closed(T),
    /// The pattern's cancellation token was cancelled.
    #[error("cancelled")]
    Cancelled(T),
}

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Closed(v) | Self::Cancelled(v) => v,
        }
    }
}

// Like the channels' own errors: printable without requiring `T: Debug`.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed(_) => f.write_str("Closed(..)"),
            Self::Cancelled(_) => f.write_str("Cancelled(..)"),
        }
    }
}

/// A worker pool refused a job; the job was not run and will not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// `try_submit` found the queue full (`submit` would have waited).
    #[error("the pool's queue is full")]
    Full,
    /// The pool has been shut down.
    #[error("the pool is shut down")]
    ShutDown,
}

/// An accepted job that did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The job panicked; its worker caught the panic and kept serving.
    #[error("the job panicked: {0}")]
    Panicked(String),
    /// The job was dropped without running to the end: its runtime shut down
    /// under it (tokio flavour), or it was cancelled.
    #[error("the job was dropped before it finished")]
    Lost,
}

/// Why a receive with a timeout and a cancellation token returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// Nothing arrived in time.
    #[error("timed out")]
    Timeout,
    /// The token was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Every sender is gone and the channel is empty.
    #[error("every sender is gone")]
    Disconnected,
}
