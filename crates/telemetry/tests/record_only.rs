//! Chapter 11: what each span processor does with a `RecordOnly` span (recorded,
//! sampled flag off). The specification's table says processors receive it and
//! exporters do not. In `opentelemetry_sdk` 0.33.1 `SimpleSpanProcessor`
//! keeps to that, the thread-based `BatchSpanProcessor` does not (its `on_end`
//! queues every span), and the book's `FastBatchProcessor` does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, SpanKind, TraceContextExt, TraceId, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SamplingDecision, SamplingResult, SdkTracerProvider,
    ShouldSample, SimpleSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor,
};
use otlp_csp_telemetry::fast_batch_mutants::ExportsUnsampled;
use otlp_csp_telemetry::{FastBatchProcessor, Filter};

const SPANS: usize = 20;

/// Answers `RecordOnly` for every span.
#[derive(Clone, Debug)]
struct RecordOnly;

impl ShouldSample for RecordOnly {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        SamplingResult {
            decision: SamplingDecision::RecordOnly,
            attributes: Vec::new(),
            trace_state: parent
                .map(|cx| cx.span().span_context().trace_state().clone())
                .unwrap_or_default(),
        }
    }
}

/// Keeps what it is given to export.
#[derive(Clone, Debug, Default)]
struct Keep(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// Counts every span a processor receives, sampled or not.
#[derive(Debug, Default)]
struct Seen(Arc<AtomicUsize>);

impl SpanProcessor for Seen {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, _span: SpanData) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// The check: ends `SPANS` record-only spans through the processor that
/// `make` builds around an exporter, flushes and shuts down, and says
/// whether the exporter received none of them. It first requires that a
/// processor did receive all of them, so a `true` is never vacuous.
fn exports_only_sampled<P: SpanProcessor + 'static>(
    make: impl FnOnce(Keep) -> P,
) -> bool {
    let keep = Keep::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let provider = SdkTracerProvider::builder()
        .with_sampler(RecordOnly)
        .with_span_processor(Seen(seen.clone()))
        .with_span_processor(make(keep.clone()))
        .build();
    let tracer = provider.tracer("ch11");
    for _ in 0..SPANS {
        let span = tracer.start("record only");
        assert!(
            !span.span_context().is_sampled(),
            "RecordOnly clears the flag"
        );
        drop(span);
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    assert_eq!(
        seen.load(Ordering::Acquire),
        SPANS,
        "processors see every span"
    );
    let exported = keep.0.lock().unwrap();
    assert!(exported.iter().all(|s| s.name == "record only"));
    exported.is_empty()
}

/// The SDK's thread-based batch processor (the one `with_batch_exporter`
/// installs) hands record-only spans to its exporter: the check fails on it.
#[test]
fn sdk_batch_processor_exports_record_only_spans() {
    assert!(!exports_only_sampled(
        |e| BatchSpanProcessor::builder(e).build()
    ));
}

/// The remedy: chapter 12's `Filter` in front of it, dropping unsampled spans.
#[test]
fn sdk_batch_processor_behind_a_filter_exports_only_sampled_spans() {
    assert!(exports_only_sampled(|e| {
        let unsampled = |s: &SpanData| !s.span_context.is_sampled();
        Filter::new(unsampled, BatchSpanProcessor::builder(e).build())
    }));
}

#[test]
fn sdk_simple_processor_exports_only_sampled_spans() {
    assert!(exports_only_sampled(SimpleSpanProcessor::new));
}

#[test]
fn book_fast_batch_processor_exports_only_sampled_spans() {
    assert!(exports_only_sampled(|e| {
        FastBatchProcessor::builder(e).build().unwrap()
    }));
}

/// The planted bug: the book's processor without its sampled check.
#[test]
fn the_check_rejects_fast_batch_without_its_sampled_check() {
    assert!(!exports_only_sampled(|e| {
        ExportsUnsampled(FastBatchProcessor::builder(e).build().unwrap())
    }));
}
