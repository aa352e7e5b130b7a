//! Receiving with a timeout and a cancellation token, with `tokio::select!`.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::RecvError;

// ANCHOR: recv_until
/// Receives from `rx`, giving up after `timeout` or when `cancel` fires.
pub async fn recv_until<T>(
    rx: &mut mpsc::Receiver<T>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<T, RecvError> {
    tokio::select! {
        // `biased` polls the arms in order: a cancelled token wins over a
        // waiting message, and the timer is only looked at last.
        biased;
        () = cancel.cancelled() => Err(RecvError::Cancelled),
        msg = rx.recv() => msg.ok_or(RecvError::Disconnected),
        () = tokio::time::sleep(timeout) => Err(RecvError::Timeout),
    }
}
// ANCHOR_END: recv_until
