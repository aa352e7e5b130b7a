//! A full batch queue drops spans, and the counters account for every one.
//! Records the figures chapter 9 shows.

use std::time::Duration;

use book_results::{Measurement, record};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData,
    SpanExporter,
};
use otlp_csp_telemetry::{
    CountEnded, CountingExporter, GatedExporter, SpanCounters, SpanStats,
};

/// Takes 20 ms per batch, like a distant collector.
#[derive(Debug)]
struct Slow;

impl SpanExporter for Slow {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        std::thread::sleep(Duration::from_millis(20));
        Ok(())
    }
}

const BURST: u64 = 200;
const BATCH: usize = 4;

fn burst<E: SpanExporter + 'static>(
    exporter: E,
    queue: usize,
    before_shutdown: impl FnOnce(),
) -> SpanStats {
    let counters = SpanCounters::default();
    let processor = BatchSpanProcessor::builder(CountingExporter::new(
        exporter,
        counters.clone(),
    ))
    .with_batch_config(
        BatchConfigBuilder::default()
            .with_max_queue_size(queue)
            .with_max_export_batch_size(BATCH)
            .build(),
    )
    .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CountEnded(counters.clone()))
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("test");
    for _ in 0..BURST {
        drop(tracer.start("burst"));
    }
    before_shutdown();
    provider.shutdown().unwrap();
    let stats = counters.snapshot();
    assert_eq!(stats.ended, BURST);
    assert_eq!(stats.exported + stats.failed + stats.dropped, stats.ended);
    stats
}

/// With the exporter stuck for the whole burst, only what the queue holds
/// plus the one batch the worker took can survive: an exact bound.
#[test]
fn a_stuck_exporter_keeps_at_most_queue_plus_one_batch() {
    for queue in [4, 8, 32] {
        let gate = GatedExporter::default();
        let stats = burst(gate.clone(), queue, || gate.open());
        assert!(
            stats.exported <= (queue + BATCH) as u64,
            "queue {queue}: {stats:?}"
        );
        assert!(stats.exported >= queue as u64, "a full queue is exported");
    }
}

/// The chapter's scenario: a 20 ms exporter, a burst of 200 spans.
#[test]
fn a_slow_exporter_with_a_small_queue_drops_and_counts() {
    let small = burst(Slow, 8, || ());
    let large = burst(Slow, 256, || ());
    assert!(small.dropped >= BURST / 2, "{small:?}");
    assert_eq!(large.dropped, 0, "{large:?}");
    record(
        "ch09_queue",
        vec![
            Measurement::count("ch09_queue/burst", BURST as f64, "spans"),
            Measurement::count(
                "ch09_queue/queue8_exported",
                small.exported as f64,
                "spans",
            ),
            Measurement::count(
                "ch09_queue/queue8_dropped",
                small.dropped as f64,
                "spans",
            ),
            Measurement::count(
                "ch09_queue/queue256_exported",
                large.exported as f64,
                "spans",
            ),
            Measurement::count(
                "ch09_queue/queue256_dropped",
                large.dropped as f64,
                "spans",
            ),
        ],
    )
    .unwrap();
}

/// A queue size of 0 (e.g. `OTEL_BSP_MAX_QUEUE_SIZE=0`) is accepted, and the
/// processor's channel becomes a rendezvous that its worker never waits on:
/// every span is dropped. The counters show it; nothing else does.
#[test]
fn a_queue_of_zero_drops_every_span() {
    let gate = GatedExporter::default();
    gate.open();
    let stats = burst(gate, 0, || ());
    assert_eq!((stats.exported, stats.dropped), (0, BURST), "{stats:?}");
}
