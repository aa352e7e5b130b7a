//! The fast batch processor under overload: every span offered is exported,
//! failed or counted as dropped, exactly, and the book's counters agree.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    SdkTracerProvider, SpanData, SpanExporter, SpanProcessor,
};
use otlp_csp_telemetry::{
    CountEnded, CountingExporter, FastBatchError, FastBatchProcessor, GatedExporter,
    SpanCounters,
};

#[test]
fn overload_counts_every_drop_exactly() {
    const QUEUE: usize = 8;
    const BATCH: usize = 4;
    const PER_THREAD: u64 = 2_000;
    let counters = SpanCounters::default();
    let gated = GatedExporter::default();
    let processor = FastBatchProcessor::builder(CountingExporter::new(
        gated.clone(),
        counters.clone(),
    ))
    .with_queue_size(QUEUE)
    .with_max_batch_size(BATCH)
    .build()
    .unwrap();
    let fast = processor.counters();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CountEnded(counters.clone()))
        .with_span_processor(processor)
        .build();

    let threads: Vec<_> = (0..2)
        .map(|_| {
            let tracer = provider.tracer("overload");
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    drop(tracer.start("burst"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    gated.open();
    provider.shutdown().unwrap();

    let f = fast.snapshot();
    let s = counters.snapshot();
    assert_eq!(f.offered, 2 * PER_THREAD);
    assert_eq!(s.ended, f.offered);
    // Nothing is lost without being counted.
    assert_eq!(f.offered, f.exported + f.failed + f.dropped());
    assert_eq!(f.in_flight(), 0);
    assert_eq!(f.queue_depth, 0);
    // The processor's counts and the exporter wrapper's agree.
    assert_eq!(f.exported, s.exported);
    assert_eq!(f.exported, gated.received());
    assert_eq!(f.dropped(), s.dropped);
    // With the exporter stuck, at most one batch and a full queue survive.
    assert!(f.exported <= (QUEUE + BATCH) as u64, "{f:?}");
    assert!(f.dropped_full >= 2 * PER_THREAD - (QUEUE + BATCH) as u64);
}

#[derive(Debug)]
struct Failing;

impl SpanExporter for Failing {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Err(OTelSdkError::InternalFailure("collector said no".into()))
    }
}

#[test]
fn failed_exports_are_counted_as_failed() {
    let counters = SpanCounters::default();
    let processor = FastBatchProcessor::builder(CountingExporter::new(
        Failing,
        counters.clone(),
    ))
    .with_max_batch_size(3)
    .build()
    .unwrap();
    let fast = processor.counters();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..10 {
        drop(tracer.start("s"));
    }
    let result = provider.shutdown();
    assert!(result.is_err(), "a failed export makes shutdown report it");
    let f = fast.snapshot();
    assert_eq!(
        (f.offered, f.exported, f.failed, f.dropped()),
        (10, 0, 10, 0)
    );
    assert_eq!(counters.snapshot().failed, 10);
}

/// Sends each batch's size down a channel, so a test can wait for exports.
#[derive(Debug)]
struct Reporting(Mutex<mpsc::Sender<usize>>);

impl SpanExporter for Reporting {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let _ = self.0.lock().unwrap().send(batch.len());
        Ok(())
    }
}

#[test]
fn force_flush_exports_what_ended_before_it() {
    let (tx, rx) = mpsc::channel();
    // A delay no test waits for: only the flush can export these spans.
    let processor = FastBatchProcessor::builder(Reporting(Mutex::new(tx)))
        .with_max_delay(Duration::from_secs(3600))
        .build()
        .unwrap();
    let fast = processor.counters();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..5 {
        drop(tracer.start("s"));
    }
    assert!(rx.try_recv().is_err(), "nothing exported before the flush");
    provider.force_flush().unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(fast.snapshot().exported, 5);
    provider.shutdown().unwrap();
}

#[test]
fn a_full_batch_is_exported_without_waiting_for_the_delay() {
    let (tx, rx) = mpsc::channel();
    let processor = FastBatchProcessor::builder(Reporting(Mutex::new(tx)))
        .with_max_batch_size(4)
        .with_max_delay(Duration::from_secs(3600))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..4 {
        drop(tracer.start("s"));
    }
    // The producer that filled the batch woke the exporter thread. The
    // timeout only bounds a failing test; it is not a speed requirement.
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(4));
    provider.shutdown().unwrap();
}

#[test]
fn a_partial_batch_is_exported_after_the_delay() {
    let (tx, rx) = mpsc::channel();
    let processor = FastBatchProcessor::builder(Reporting(Mutex::new(tx)))
        .with_max_batch_size(100)
        .with_max_delay(Duration::from_millis(20))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("t");
    drop(tracer.start("lonely"));
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
    provider.shutdown().unwrap();
}

#[test]
fn spans_ended_after_shutdown_are_refused_and_counted() {
    let processor =
        FastBatchProcessor::builder(Reporting(Mutex::new(mpsc::channel().0)))
            .build()
            .unwrap();
    let fast = processor.counters();
    // The processor is used directly: a provider that has shut down no
    // longer calls its processors at all.
    processor.shutdown().unwrap();
    processor.on_end(sample_span());
    let f = fast.snapshot();
    assert_eq!((f.offered, f.dropped_after_shutdown), (1, 1));
    assert!(
        matches!(processor.shutdown(), Err(OTelSdkError::AlreadyShutdown)),
        "a second shutdown says so"
    );
}

/// A finished, sampled span, made by a provider that exports into a vector.
fn sample_span() -> SpanData {
    #[derive(Debug, Clone, Default)]
    struct Keep(Arc<Mutex<Vec<SpanData>>>);
    impl SpanExporter for Keep {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }
    let keep = Keep::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(keep.clone())
        .build();
    drop(provider.tracer("t").start("late"));
    provider.shutdown().unwrap();
    keep.0.lock().unwrap().pop().unwrap()
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let zero_queue = FastBatchProcessor::builder(Failing)
        .with_queue_size(0)
        .build();
    assert!(matches!(zero_queue, Err(FastBatchError::ZeroQueue)));
    let zero_batch = FastBatchProcessor::builder(Failing)
        .with_max_batch_size(0)
        .build();
    assert!(matches!(zero_batch, Err(FastBatchError::ZeroBatch)));
    assert_eq!(
        FastBatchError::ZeroQueue.to_string(),
        "the queue size must be at least 1"
    );
}
