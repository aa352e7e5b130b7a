//! A batch span processor whose `on_end` never blocks and never loses a span
//! without counting it (chapter 12).
//!
//! Finished spans go into a bounded queue whose push is lock-free
//! ([`span_queue::BoundedQueue`]);
//! one exporter thread takes them out in batches. When the queue is full the
//! span is dropped and counted, when the processor has shut down it is
//! dropped and counted too, and the exporter thread counts what it exported
//! and what failed. After [`shutdown`](SpanProcessor::shutdown_with_timeout):
//!
//! ```text
//! offered == exported + failed + dropped
//! ```
//!
//! where `offered` is every sampled span handed to `on_end`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use span_queue::BoundedQueue;

/// Why a [`FastBatchProcessor`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FastBatchError {
    /// The queue size was 0.
    #[error("the queue size must be at least 1")]
    ZeroQueue,
    /// The batch size was 0.
    #[error("the maximum batch size must be at least 1")]
    ZeroBatch,
    /// The exporter thread could not be started.
    #[error("cannot start the exporter thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Settings of a [`FastBatchProcessor`]; the defaults are the SDK's
/// (`OTEL_BSP_*` defaults: queue 2048, batch 512, delay 5 s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FastBatchConfig {
    /// Spans the queue holds before `on_end` starts dropping.
    pub queue_size: usize,
    /// Most spans handed to the exporter in one call.
    pub max_batch_size: usize,
    /// Longest a span waits in a partial batch.
    pub max_delay: Duration,
}

impl Default for FastBatchConfig {
    fn default() -> Self {
        Self {
            queue_size: 2048,
            max_batch_size: 512,
            max_delay: Duration::from_secs(5),
        }
    }
}

/// A snapshot of a [`FastBatchProcessor`]'s counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastBatchStats {
    /// Sampled spans handed to `on_end`.
    pub offered: u64,
    /// Spans dropped because the queue was full.
    pub dropped_full: u64,
    /// Spans dropped because the processor had shut down.
    pub dropped_after_shutdown: u64,
    /// Spans the exporter delivered.
    pub exported: u64,
    /// Spans in batches the exporter failed to deliver.
    pub failed: u64,
    /// Spans waiting in the queue now.
    pub queue_depth: usize,
}

impl FastBatchStats {
    /// Spans dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_full + self.dropped_after_shutdown
    }

    /// Spans not yet accounted for: in the queue, in the batch being
    /// exported, or in a push still in progress. Zero after shutdown.
    pub fn in_flight(&self) -> u64 {
        self.offered
            .saturating_sub(self.exported + self.failed + self.dropped())
    }
}

struct Shared {
    queue: BoundedQueue<SpanData>,
    exported: AtomicU64,
    failed: AtomicU64,
    worker: OnceLock<Thread>,
    max_batch_size: usize,
    /// The largest power of two not above `max_batch_size`, minus one:
    /// producers wake the exporter when the accepted count is a multiple
    /// of it, at least once per batch, with a mask rather than a division.
    wake_mask: u64,
}

impl Shared {
    fn wake(&self) {
        if let Some(t) = self.worker.get() {
            t.unpark();
        }
    }
}

/// Reads a [`FastBatchProcessor`]'s counters after the processor has been
/// moved into a tracer provider. Cheap to clone.
#[derive(Clone)]
pub struct FastBatchCounters(Arc<Shared>);

impl std::fmt::Debug for FastBatchCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FastBatchCounters")
            .field(&self.snapshot())
            .finish()
    }
}

impl FastBatchCounters {
    /// The counters now (final after shutdown).
    pub fn snapshot(&self) -> FastBatchStats {
        let q = self.0.queue.stats();
        FastBatchStats {
            offered: q.offered,
            dropped_full: q.dropped_full,
            dropped_after_shutdown: q.dropped_closed,
            exported: self.0.exported.load(Ordering::SeqCst),
            failed: self.0.failed.load(Ordering::SeqCst),
            queue_depth: q.len,
        }
    }
}

enum Control {
    Flush(SyncSender<OTelSdkResult>),
    Shutdown(SyncSender<OTelSdkResult>),
    SetResource(Resource),
}

/// A span processor that queues finished spans without locks or blocking
/// and exports them in batches from one thread of its own.
///
/// Build it with [`FastBatchProcessor::builder`]; read its counters through
/// [`FastBatchProcessor::counters`].
pub struct FastBatchProcessor {
    shared: Arc<Shared>,
    control: Sender<Control>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for FastBatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastBatchProcessor")
            .field("stats", &self.counters().snapshot())
            .finish()
    }
}

/// Builds a [`FastBatchProcessor`].
#[derive(Debug)]
pub struct FastBatchBuilder<E> {
    exporter: E,
    config: FastBatchConfig,
    returned: Option<Returned>,
}

// ANCHOR: returned
/// Where an exporter that is done with a batch's vector leaves it, empty,
/// for the next batch. The SDK's `SpanExporter::export` takes the vector by
/// value, so without this every batch allocates a new one: as many
/// `SpanData` slots as the batch holds, hundreds of bytes a span.
#[derive(Clone, Debug, Default)]
pub(crate) struct Returned(Arc<Mutex<Option<Vec<SpanData>>>>);

impl Returned {
    /// Empties `batch` (its spans are dropped here) and keeps it.
    pub(crate) fn give(&self, mut batch: Vec<SpanData>) {
        batch.clear();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(batch);
    }

    fn take(&self) -> Option<Vec<SpanData>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
// ANCHOR_END: returned

impl<E: SpanExporter + 'static> FastBatchBuilder<E> {
    /// Spans the queue holds (default 2048).
    pub fn with_queue_size(mut self, n: usize) -> Self {
        self.config.queue_size = n;
        self
    }

    /// Most spans per export call (default 512).
    pub fn with_max_batch_size(mut self, n: usize) -> Self {
        self.config.max_batch_size = n;
        self
    }

    /// Longest a span waits in a partial batch (default 5 s).
    pub fn with_max_delay(mut self, d: Duration) -> Self {
        self.config.max_delay = d;
        self
    }

    /// All settings at once.
    pub fn with_config(mut self, config: FastBatchConfig) -> Self {
        self.config = config;
        self
    }

    /// Takes each next batch's vector from `returned` when the exporter
    /// has left one there.
    pub(crate) fn with_returned_batches(mut self, returned: Returned) -> Self {
        self.returned = Some(returned);
        self
    }

    /// Starts the exporter thread.
    pub fn build(self) -> Result<FastBatchProcessor, FastBatchError> {
        let FastBatchConfig {
            queue_size,
            max_batch_size,
            max_delay,
        } = self.config;
        if max_batch_size == 0 {
            return Err(FastBatchError::ZeroBatch);
        }
        let queue =
            BoundedQueue::new(queue_size).map_err(|_| FastBatchError::ZeroQueue)?;
        let shared = Arc::new(Shared {
            queue,
            exported: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            worker: OnceLock::new(),
            max_batch_size: max_batch_size.min(queue_size),
            wake_mask: (1u64 << max_batch_size.min(queue_size).ilog2()) - 1,
        });
        let (control, commands) = mpsc::channel();
        let worker = Worker {
            shared: shared.clone(),
            exporter: self.exporter,
            commands,
            max_delay,
            returned: self.returned,
        };
        let handle = thread::Builder::new()
            .name("fast-batch-exporter".into())
            .spawn(move || worker.run())?;
        let _ = shared.worker.set(handle.thread().clone());
        Ok(FastBatchProcessor {
            shared,
            control,
            handle: Mutex::new(Some(handle)),
        })
    }
}

impl FastBatchProcessor {
    /// A builder with the default settings.
    pub fn builder<E: SpanExporter + 'static>(exporter: E) -> FastBatchBuilder<E> {
        FastBatchBuilder {
            exporter,
            config: FastBatchConfig::default(),
            returned: None,
        }
    }

    /// A handle on the counters that outlives moving the processor into a provider.
    pub fn counters(&self) -> FastBatchCounters {
        FastBatchCounters(self.shared.clone())
    }

    fn ask(
        &self,
        make: fn(SyncSender<OTelSdkResult>) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (reply, answer) = mpsc::sync_channel(1);
        self.control
            .send(make(reply))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        self.shared.wake();
        match answer.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(OTelSdkError::Timeout(timeout))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(OTelSdkError::AlreadyShutdown)
            }
        }
    }
}

impl SpanProcessor for FastBatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    // ANCHOR: on_end
    fn on_end(&self, span: SpanData) {
        // Unsampled (record-only) spans are not exported, as the specification
        // asks; the SDK's own thread-based BatchSpanProcessor (0.33) exports
        // them (chapter 11).
        if !span.span_context.is_sampled() {
            return;
        }
        // A refused span is counted by the queue (full, or closed after
        // shutdown) and dropped here. Once per batch an accepted span wakes
        // the exporter thread; reading only the number `push` returns keeps
        // this thread off the cache line the exporter thread writes.
        if let Ok(before) = self.shared.queue.push_numbered(span)
            && (before + 1) & self.shared.wake_mask == 0
        {
            self.shared.wake();
        }
    }
    // ANCHOR_END: on_end

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Control::Flush, Duration::from_secs(30))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.ask(Control::Shutdown, timeout);
        // The worker answered (even with an export error) and has returned:
        // join it. After a timeout it is still busy; leave it be.
        if !matches!(result, Err(OTelSdkError::Timeout(_)))
            && let Some(handle) =
                self.handle.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            handle.join().map_err(|_| {
                OTelSdkError::InternalFailure("exporter thread panicked".into())
            })?;
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        let _ = self.control.send(Control::SetResource(resource.clone()));
        self.shared.wake();
    }
}

impl Drop for FastBatchProcessor {
    fn drop(&mut self) {
        // A provider shuts its processors down before dropping them; this
        // covers a processor dropped on its own, so the thread never leaks.
        if self.handle.get_mut().map(|h| h.is_some()).unwrap_or(false) {
            let _ = self.shutdown_with_timeout(Duration::from_secs(30));
        }
    }
}

struct Worker<E> {
    shared: Arc<Shared>,
    exporter: E,
    commands: Receiver<Control>,
    max_delay: Duration,
    returned: Option<Returned>,
}

impl<E: SpanExporter> Worker<E> {
    fn run(mut self) {
        // Spans made while exporting (e.g. by an instrumented HTTP client)
        // must not feed back into this pipeline.
        let _suppress = Context::enter_telemetry_suppressed_scope();
        let max = self.shared.max_batch_size;
        let mut batch = Vec::with_capacity(max);
        let mut last_export = Instant::now();
        loop {
            match self.commands.try_recv() {
                Ok(Control::Flush(reply)) => {
                    let _ = reply.send(self.export_all(&mut batch));
                    last_export = Instant::now();
                    continue;
                }
                Ok(Control::Shutdown(reply)) => {
                    let _ = reply.send(self.finish(&mut batch));
                    return;
                }
                Ok(Control::SetResource(resource)) => {
                    self.exporter.set_resource(&resource);
                    continue;
                }
                Err(TryRecvError::Disconnected) => {
                    // The processor is gone without a shutdown call.
                    let _ = self.finish(&mut batch);
                    return;
                }
                Err(TryRecvError::Empty) => {}
            }
            let due = last_export.elapsed() >= self.max_delay;
            if self.shared.queue.len() >= max
                || (due && !self.shared.queue.is_empty())
            {
                let _ = self.export_batch(&mut batch);
                last_export = Instant::now();
                continue;
            }
            if due {
                last_export = Instant::now();
            }
            // Sleep until the next deadline, a full batch, or a command. A
            // wake-up sent while this thread was busy is not lost: `unpark`
            // leaves a token that makes the next `park_timeout` return.
            thread::park_timeout(
                self.max_delay.saturating_sub(last_export.elapsed()),
            );
        }
    }

    /// Exports at most one batch; returns whether the queue gave anything.
    fn export_batch(&mut self, batch: &mut Vec<SpanData>) -> Option<OTelSdkResult> {
        let n = self
            .shared
            .queue
            .pop_into(batch, self.shared.max_batch_size);
        if n == 0 {
            return None;
        }
        let next = self.returned.as_ref().and_then(Returned::take);
        let next =
            next.unwrap_or_else(|| Vec::with_capacity(self.shared.max_batch_size));
        let spans = std::mem::replace(batch, next);
        let result = futures::executor::block_on(self.exporter.export(spans));
        let counter = if result.is_ok() {
            &self.shared.exported
        } else {
            &self.shared.failed
        };
        counter.fetch_add(n as u64, Ordering::SeqCst);
        Some(result)
    }

    /// Exports everything queued now; the first error, if any.
    fn export_all(&mut self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        let mut outcome = Ok(());
        while let Some(result) = self.export_batch(batch) {
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }

    // ANCHOR: finish
    /// Closes the queue, exports everything it accepted, and shuts the
    /// exporter down.
    fn finish(&mut self, batch: &mut Vec<SpanData>) -> OTelSdkResult {
        self.shared.queue.close();
        let mut exported = Ok(());
        // A push that claimed its slot before the close may still be writing
        // it: keep exporting until every claimed slot has been popped.
        loop {
            let result = self.export_all(batch);
            if exported.is_ok() {
                exported = result;
            }
            if self.shared.queue.is_drained() {
                break;
            }
            thread::yield_now();
        }
        let shutdown = self.exporter.shutdown();
        exported.and(shutdown)
    }
    // ANCHOR_END: finish
}

/// A deliberate bug in [`FastBatchProcessor`], for the test that shows the
/// record-only check of `tests/record_only.rs` can fail. Compiled only with
/// the feature `mutants`, which only this crate's own tests turn on.
#[cfg(feature = "mutants")]
pub mod mutants {
    use std::time::Duration;

    use opentelemetry::Context;
    use opentelemetry::trace::SpanContext;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

    use super::FastBatchProcessor;

    /// The processor without its sampled check: every ended span reaches the
    /// queue and the exporter, record-only ones included. (It marks each span
    /// sampled before the real `on_end`, which lets it past the check; the
    /// exported copy of a record-only span so carries the flag set.)
    #[derive(Debug)]
    pub struct ExportsUnsampled(pub FastBatchProcessor);

    impl SpanProcessor for ExportsUnsampled {
        fn on_start(&self, span: &mut Span, cx: &Context) {
            self.0.on_start(span, cx);
        }

        fn on_end(&self, mut span: SpanData) {
            let sc = &span.span_context;
            span.span_context = SpanContext::new(
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags().with_sampled(true),
                sc.is_remote(),
                sc.trace_state().clone(),
            );
            self.0.on_end(span);
        }

        fn force_flush(&self) -> OTelSdkResult {
            self.0.force_flush()
        }

        fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
            self.0.shutdown_with_timeout(timeout)
        }

        fn set_resource(&mut self, resource: &Resource) {
            self.0.set_resource(resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    /// Records each batch vector's capacity, then gives the vector back
    /// with a capacity no fresh one has.
    #[derive(Debug)]
    struct GivesBack(Returned, Arc<Mutex<Vec<usize>>>);

    impl SpanExporter for GivesBack {
        async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
            self.1.lock().unwrap().push(batch.capacity());
            batch.reserve_exact(1000);
            self.0.give(batch);
            Ok(())
        }
    }

    /// The batch capacities the exporter saw in three flushes, with the
    /// processor reading the exporter's `Returned` or not.
    fn capacities(told: bool) -> Vec<usize> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let returned = Returned::default();
        let exporter = GivesBack(returned.clone(), seen.clone());
        let mut builder =
            FastBatchProcessor::builder(exporter).with_max_batch_size(4);
        if told {
            builder = builder.with_returned_batches(returned);
        }
        let provider = SdkTracerProvider::builder()
            .with_span_processor(builder.build().unwrap())
            .build();
        for _ in 0..3 {
            drop(provider.tracer("t").start("s"));
            provider.force_flush().unwrap();
        }
        seen.lock().unwrap().clone()
    }

    #[test]
    fn a_batch_vector_given_back_is_used_again() {
        // The vector a batch is popped into is the one taken after the
        // export before: the third batch is the first one's vector.
        let seen = capacities(true);
        assert_eq!(seen[..2], [4, 4]);
        assert!(
            seen[2] >= 1000,
            "the third batch got a new vector: {seen:?}"
        );
        // Not told to: every batch is a new vector of the batch's size.
        assert_eq!(capacities(false), [4, 4, 4]);
    }
}
