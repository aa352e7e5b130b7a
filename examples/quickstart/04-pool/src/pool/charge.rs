//! One job: a call to the bank, with a time limit, and the span's status.

use super::Job;
use super::bank::call_bank;
use opentelemetry::Context;
use opentelemetry::trace::{FutureExt, Status, TraceContextExt};
use std::time::Duration;

/// A bank call that takes longer than this is cancelled.
const PATIENCE: Duration = Duration::from_millis(100);

/// Runs inside the job's Context (see `with_context` in `charge_all`).
pub async fn charge(job: Job) {
    let cx = Context::current();
    let call = call_bank(job.cents).with_context(cx.clone());
    // Dropping the future on timeout cancels the call, and ends its span.
    let result = match tokio::time::timeout(PATIENCE, call).await {
        Ok(result) => result,
        Err(_) => Err(format!("cancelled after {PATIENCE:?}")),
    };
    if let Err(why) = result {
        cx.span().set_status(Status::error(why));
    }
}
