//! A pool of tokio tasks that charge cards, fed by one bounded queue.

use opentelemetry::trace::{FutureExt, Span, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// A charge over this many cents is declined.
const LIMIT: u64 = 10_000;
/// A bank call that takes longer than this is cancelled.
const PATIENCE: Duration = Duration::from_millis(100);

pub struct Job {
    pub id: u64,
    pub cents: u64,
}

/// Charges every job with `workers` tasks; at most `queue` jobs wait.
pub async fn charge_all(jobs: Vec<Job>, workers: usize, queue: usize) {
    let (tx, rx) = mpsc::channel::<(Job, Context)>(queue);
    // One receiver, shared: whichever worker is free takes the next job.
    let rx = Arc::new(Mutex::new(rx));
    let mut pool = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let rx = rx.clone();
        pool.spawn(async move {
            // The lock is released as soon as a job (or None) is taken.
            while let Some((job, cx)) = rx.lock().await.recv().await {
                charge(job).with_context(cx).await;
            }
        });
    }

    let tracer = global::tracer("shop");
    for job in jobs {
        let mut span = tracer.start("charge");
        span.set_attribute(KeyValue::new("job.id", job.id as i64));
        // When the queue is full this waits: back-pressure on the producer.
        tx.send((job, Context::current_with_span(span)))
            .await
            .unwrap();
    }
    drop(tx); // no more jobs: each worker's `recv` returns None
    pool.join_all().await;
}

/// Runs inside the job's Context (see `with_context` above).
async fn charge(job: Job) {
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

async fn call_bank(cents: u64) -> Result<(), String> {
    let tracer = global::tracer("shop");
    let _span = tracer.start("call_bank");
    // A pretend bank: it declines huge amounts at once and is slow on big ones.
    if cents > LIMIT {
        return Err(format!("declined: {cents} is over the limit"));
    }
    let delay = if cents > 5_000 { 500 } else { 10 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(())
}
