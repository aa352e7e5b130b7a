//! A fixed set of worker threads serving a bounded queue of jobs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::thread::{JoinHandle, ThreadId};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use opentelemetry::Context;

use crate::PoolStats;
use crate::error::{BuildError, JobError, SubmitError, nonzero, settle_job};
use crate::messaging::Destination;
use crate::trace::Tracing;

/// The work of a job, already wrapped to catch its panic and deliver its result.
type Run = Box<dyn FnOnce(&Worker, &Context) + Send>;

/// A job as it waits in the queue, with the submitter's context.
struct Job {
    cx: Context,
    run: Run,
}

/// One worker's settings and counts. Each worker has its own, so that
/// counting a job does not bounce a cache line between the workers.
#[repr(align(128))]
struct Worker {
    tracing: Tracing,
    destination: Destination,
    completed: AtomicU64,
    panicked: AtomicU64,
}

/// `workers` threads taking jobs from a queue of at most `queue` jobs.
///
/// [`submit`](Self::submit) waits while the queue is full;
/// [`try_submit`](Self::try_submit) refuses instead. A job that panics is
/// reported on its [`JobHandle`] and its worker goes on to the next job.
/// [`shutdown`](Self::shutdown) refuses new jobs, lets the workers finish
/// every accepted one, and joins them. Clones share the pool.
#[derive(Clone)]
pub struct WorkerPool {
    shared: Arc<Shared>,
}

struct Shared {
    // `None` once shut down. Submitters hold the read lock while they send,
    // so shutdown (the write lock) cannot close the queue under a send that
    // has already been accepted.
    queue: RwLock<Option<Sender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    worker_ids: Vec<ThreadId>,
    workers_state: Vec<Arc<Worker>>,
    accepted: AtomicU64,
}

impl WorkerPool {
    /// Starts `workers` threads over a queue of `queue` jobs, tracing to the global provider.
    pub fn new(workers: usize, queue: usize) -> Result<Self, BuildError> {
        Self::with_tracing(workers, queue, Tracing::global())
    }

    /// Like [`new`](Self::new), with the spans of jobs going to `tracing`.
    pub fn with_tracing(
        workers: usize,
        queue: usize,
        tracing: Tracing,
    ) -> Result<Self, BuildError> {
        let workers = nonzero(workers, "worker count")?;
        let (tx, rx) = bounded(nonzero(queue, "queue capacity")?);
        let destination = Destination::threads("pool");
        let workers_state: Vec<_> = (0..workers)
            .map(|_| {
                Arc::new(Worker {
                    tracing: tracing.clone(),
                    destination,
                    completed: AtomicU64::new(0),
                    panicked: AtomicU64::new(0),
                })
            })
            .collect();
        let mut handles = Vec::with_capacity(workers);
        for (i, worker) in workers_state.iter().enumerate() {
            let (rx, worker) = (rx.clone(), worker.clone());
            // On failure, the handles dropped here detach their threads, which
            // exit when `tx` is dropped on return.
            handles.push(super::spawn(
                "a pool worker",
                format!("pool-worker-{i}"),
                move || serve(&rx, &worker),
            )?);
        }
        Ok(Self {
            shared: Arc::new(Shared {
                queue: RwLock::new(Some(tx)),
                worker_ids: handles.iter().map(|h| h.thread().id()).collect(),
                workers: Mutex::new(handles),
                workers_state,
                accepted: AtomicU64::new(0),
            }),
        })
    }

    /// Queues `job`, waiting while the queue is full. Fails only once the
    /// pool is shut down.
    ///
    /// Calling this from inside a job can deadlock: if every worker waits for
    /// room in the queue, nobody makes room. Use `try_submit` there.
    pub fn submit<R, F>(&self, job: F) -> Result<JobHandle<R>, SubmitError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let queue = self.shared.queue.read().unwrap_or_else(|p| p.into_inner());
        let tx = queue.as_ref().ok_or(SubmitError::ShutDown)?;
        let (job, handle) = package(job);
        tx.send(job).map_err(|_| SubmitError::ShutDown)?;
        self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(handle)
    }

    /// Queues `job` if there is room now.
    pub fn try_submit<R, F>(&self, job: F) -> Result<JobHandle<R>, SubmitError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let queue = match self.shared.queue.try_read() {
            Ok(queue) => queue,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            // Only a shutdown takes the write lock.
            Err(TryLockError::WouldBlock) => return Err(SubmitError::ShutDown),
        };
        let tx = queue.as_ref().ok_or(SubmitError::ShutDown)?;
        let (job, handle) = package(job);
        tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => SubmitError::Full,
            TrySendError::Disconnected(_) => SubmitError::ShutDown,
        })?;
        self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(handle)
    }

    /// Refuses new jobs, waits until every accepted job has run, and joins
    /// the workers. Calling it again returns the same counts at once.
    ///
    /// From inside a job it only closes the queue (a worker cannot wait for
    /// itself): the returned counts are then not final.
    pub fn shutdown(&self) -> PoolStats {
        // Dropping the only sender closes the queue; the workers' loops end
        // once it is empty.
        self.shared
            .queue
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if !self
            .shared
            .worker_ids
            .contains(&std::thread::current().id())
        {
            let handles = std::mem::take(
                &mut *self
                    .shared
                    .workers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
            for handle in handles {
                // Jobs' panics are caught, so a worker thread cannot panic.
                let _ = handle.join();
            }
        }
        self.stats()
    }

    /// The counts so far.
    pub fn stats(&self) -> PoolStats {
        let sum = |count: fn(&Worker) -> &AtomicU64| {
            let workers = self.shared.workers_state.iter();
            workers.map(|w| count(w).load(Ordering::Relaxed)).sum()
        };
        PoolStats {
            accepted: self.shared.accepted.load(Ordering::Relaxed),
            completed: sum(|w| &w.completed),
            panicked: sum(|w| &w.panicked),
        }
    }
}

fn package<R, F>(job: F) -> (Job, JobHandle<R>)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (reply, result) = bounded(1);
    let run = move |worker: &Worker, cx: &Context| {
        let step = worker.tracing.process(&worker.destination, cx);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _in_span = step.context().clone().attach();
            job()
        }));
        let outcome = settle_job(outcome, step, &worker.completed, &worker.panicked);
        // A dropped handle means nobody wants the result.
        let _ = reply.send(outcome);
    };
    let job = Job {
        cx: Context::current(),
        run: Box::new(run),
    };
    (job, JobHandle { result })
}

fn serve(rx: &Receiver<Job>, worker: &Worker) {
    for job in rx {
        (job.run)(worker, &job.cx);
    }
}

/// The result of one accepted job.
#[derive(Debug)]
pub struct JobHandle<R> {
    result: Receiver<Result<R, JobError>>,
}

impl<R> JobHandle<R> {
    /// Waits for the job: its value, or how it failed.
    pub fn join(self) -> Result<R, JobError> {
        self.result.recv().unwrap_or(Err(JobError::Lost))
    }
}
