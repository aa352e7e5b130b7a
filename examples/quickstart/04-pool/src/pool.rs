//! A pool of tokio tasks that charge cards, fed by one bounded queue.

mod bank;
mod charge;

use opentelemetry::trace::{FutureExt, Span, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

pub struct Job {
    pub id: u64,
    pub cents: u64,
}

/// Charges every job with `workers` tasks; at most `queue` jobs wait.
pub async fn charge_all(jobs: Vec<Job>, workers: usize, queue: usize) {
    let (tx, rx) = mpsc::channel::<(Job, Context)>(queue);
    // One receiver, shared: a free worker locks it only to take the next job.
    let rx = Arc::new(Mutex::new(rx));
    let mut pool = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let rx = rx.clone();
        pool.spawn(async move {
            while let Some((job, cx)) = rx.lock().await.recv().await {
                charge::charge(job).with_context(cx).await;
            }
        });
    }

    for job in jobs {
        let mut span = global::tracer("shop").start("charge");
        span.set_attribute(KeyValue::new("job.id", job.id as i64));
        let cx = Context::current_with_span(span);
        // When the queue is full this waits: back-pressure on the producer.
        tx.send((job, cx)).await.unwrap();
    }
    drop(tx); // no more jobs: each worker's `recv` returns None
    pool.join_all().await;
}
