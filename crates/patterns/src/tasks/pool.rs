//! A fixed set of worker tasks serving a bounded queue of jobs.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt as _;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use tokio::sync::{RwLock, mpsc, oneshot};
use tokio::task::{Id, JoinHandle};

use super::runtime;
use crate::PoolStats;
use crate::error::{BuildError, JobError, SubmitError, nonzero, settle_job};
use crate::messaging::Destination;
use crate::trace::Tracing;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Job {
    cx: Context,
    run: Box<dyn FnOnce(Arc<Worker>, Context) -> BoxFuture + Send>,
}

struct Worker {
    tracing: Tracing,
    destination: Destination,
    completed: AtomicU64,
    panicked: AtomicU64,
}

/// The tokio flavour of [`threads::WorkerPool`](crate::threads::WorkerPool):
/// `workers` tasks taking futures from a queue of at most `queue` jobs.
/// Clones share the pool.
#[derive(Clone)]
pub struct WorkerPool {
    shared: Arc<Shared>,
}

struct Shared {
    // `None` once shut down; see the threads flavour for why submitters hold
    // the read lock while they send.
    queue: RwLock<Option<mpsc::Sender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    worker_ids: Vec<Id>,
    worker: Arc<Worker>,
    accepted: AtomicU64,
}

impl WorkerPool {
    /// Spawns `workers` tasks on the current runtime over a queue of `queue` jobs.
    pub fn new(workers: usize, queue: usize) -> Result<Self, BuildError> {
        Self::with_tracing(workers, queue, Tracing::global())
    }

    /// Like [`new`](Self::new), with the spans of jobs going to `tracing`.
    pub fn with_tracing(
        workers: usize,
        queue: usize,
        tracing: Tracing,
    ) -> Result<Self, BuildError> {
        let runtime = runtime("a tokio worker pool")?;
        let workers = nonzero(workers, "worker count")?;
        let (tx, rx) = mpsc::channel::<Job>(nonzero(queue, "queue capacity")?);
        // tokio's receiver has one owner; the workers take turns holding it.
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let worker = Arc::new(Worker {
            tracing,
            destination: Destination::tasks("pool"),
            completed: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
        });
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, worker) = (rx.clone(), worker.clone());
                runtime.spawn(async move {
                    loop {
                        let job = rx.lock().await.recv().await;
                        let Some(job) = job else { break };
                        (job.run)(worker.clone(), job.cx).await;
                    }
                })
            })
            .collect();
        Ok(Self {
            shared: Arc::new(Shared {
                queue: RwLock::new(Some(tx)),
                worker_ids: handles.iter().map(JoinHandle::id).collect(),
                workers: Mutex::new(handles),
                worker,
                accepted: AtomicU64::new(0),
            }),
        })
    }

    /// Queues `job`, waiting while the queue is full. Fails only once the pool is shut down.
    pub async fn submit<R, F>(&self, job: F) -> Result<JobHandle<R>, SubmitError>
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let queue = self.shared.queue.read().await;
        let tx = queue.as_ref().ok_or(SubmitError::ShutDown)?;
        let (job, handle) = package(job);
        tx.send(job).await.map_err(|_| SubmitError::ShutDown)?;
        self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(handle)
    }

    /// Queues `job` if there is room now.
    pub fn try_submit<R, F>(&self, job: F) -> Result<JobHandle<R>, SubmitError>
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        // Only a shutdown takes (or waits for) the write lock.
        let queue = self
            .shared
            .queue
            .try_read()
            .map_err(|_| SubmitError::ShutDown)?;
        let tx = queue.as_ref().ok_or(SubmitError::ShutDown)?;
        let (job, handle) = package(job);
        tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::Full,
            mpsc::error::TrySendError::Closed(_) => SubmitError::ShutDown,
        })?;
        self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(handle)
    }

    /// Refuses new jobs, waits until every accepted job has run, and joins
    /// the workers. From inside a job it only closes the queue.
    pub async fn shutdown(&self) -> PoolStats {
        self.shared.queue.write().await.take();
        let me = tokio::task::try_id();
        if !me.is_some_and(|id| self.shared.worker_ids.contains(&id)) {
            let handles = std::mem::take(
                &mut *self
                    .shared
                    .workers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
            for handle in handles {
                // Jobs' panics are caught, so a worker task cannot panic.
                let _ = handle.await;
            }
        }
        self.stats()
    }

    /// The counts so far.
    pub fn stats(&self) -> PoolStats {
        let w = &self.shared.worker;
        PoolStats {
            accepted: self.shared.accepted.load(Ordering::Relaxed),
            completed: w.completed.load(Ordering::Relaxed),
            panicked: w.panicked.load(Ordering::Relaxed),
        }
    }
}

fn package<R, F>(job: F) -> (Job, JobHandle<R>)
where
    F: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let (reply, result) = oneshot::channel();
    let run = move |worker: Arc<Worker>, cx: Context| -> BoxFuture {
        Box::pin(async move {
            let step = worker.tracing.process(&worker.destination, &cx);
            let outcome = AssertUnwindSafe(job.with_context(step.context().clone()))
                .catch_unwind()
                .await;
            let outcome =
                settle_job(outcome, step, &worker.completed, &worker.panicked);
            let _ = reply.send(outcome);
        })
    };
    let job = Job {
        cx: Context::current(),
        run: Box::new(run),
    };
    (job, JobHandle { result })
}

/// The result of one accepted job.
#[derive(Debug)]
pub struct JobHandle<R> {
    result: oneshot::Receiver<Result<R, JobError>>,
}

impl<R> JobHandle<R> {
    /// Waits for the job: its value, or how it failed.
    pub async fn join(self) -> Result<R, JobError> {
        self.result.await.unwrap_or(Err(JobError::Lost))
    }
}
