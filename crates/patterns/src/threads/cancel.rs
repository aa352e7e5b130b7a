//! Cancellation for threads: Go's `done` channel, with crossbeam.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, after, bounded, select};

use crate::error::RecvError;

/// A cancellation signal shared by clones, for use in `select!`.
///
/// Nothing is ever sent on [`CancelToken::done`]; cancelling drops the only
/// sender, and a disconnected channel is ready for every receiver at once.
/// That is how closing a `done` channel broadcasts in Go.
#[derive(Clone, Debug)]
pub struct CancelToken {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cancelled: AtomicBool,
    trigger: Mutex<Option<Sender<()>>>,
    done: Receiver<()>,
}

impl Shared {
    fn new() -> Self {
        let (trigger, done) = bounded(0);
        Self {
            cancelled: AtomicBool::new(false),
            trigger: Mutex::new(Some(trigger)),
            done,
        }
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // Dropping the sender is the broadcast. A poisoned lock still holds
        // the data; taking it is all that is needed.
        self.trigger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token that is not cancelled yet.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared::new()),
        }
    }

    /// Cancels the token and every clone; calling it again does nothing.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Whether the token has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// A receiver that becomes ready (disconnected) when the token is cancelled.
    pub fn done(&self) -> &Receiver<()> {
        &self.shared.done
    }
}

// ANCHOR: recv_until
/// Receives from `rx`, giving up after `timeout` or when `cancel` fires.
pub fn recv_until<T>(
    rx: &Receiver<T>,
    timeout: Duration,
    cancel: &CancelToken,
) -> Result<T, RecvError> {
    // `select!` picks at random among ready arms: check first so that a
    // cancelled token wins over a waiting message.
    if cancel.is_cancelled() {
        return Err(RecvError::Cancelled);
    }
    select! {
        recv(rx) -> msg => msg.map_err(|_| RecvError::Disconnected),
        recv(cancel.done()) -> _ => Err(RecvError::Cancelled),
        recv(after(timeout)) -> _ => Err(RecvError::Timeout),
    }
}
// ANCHOR_END: recv_until
