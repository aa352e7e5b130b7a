//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses a different subset

use std::sync::Once;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TracerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, ShouldSample, SpanData,
    TracerProviderBuilder,
};
use otlp_csp_patterns::Tracing;

/// A provider of the test's own (not the global one, so tests can run in
/// parallel) that keeps every ended span in memory, exported as it ends.
pub struct Capture {
    pub provider: SdkTracerProvider,
    exporter: InMemorySpanExporter,
}

impl Capture {
    pub fn new() -> Self {
        Self::from_builder(SdkTracerProvider::builder())
    }

    /// A capture whose provider keeps at most `max` links per span.
    pub fn with_link_limit(max: u32) -> Self {
        Self::from_builder(SdkTracerProvider::builder().with_max_links_per_span(max))
    }

    /// A capture whose provider samples with `sampler`.
    pub fn with_sampler(sampler: impl ShouldSample + 'static) -> Self {
        Self::from_builder(SdkTracerProvider::builder().with_sampler(sampler))
    }

    fn from_builder(builder: TracerProviderBuilder) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = builder.with_simple_exporter(exporter.clone()).build();
        Self { provider, exporter }
    }

    pub fn tracing(&self) -> Tracing {
        Tracing::with_tracer(self.provider.tracer("test"))
    }

    pub fn tracer(&self) -> opentelemetry_sdk::trace::SdkTracer {
        self.provider.tracer("test-producer")
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("in-memory spans")
    }

    pub fn named(&self, name: &str) -> Vec<SpanData> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }
}

pub fn by_id(spans: &[SpanData], id: SpanId) -> &SpanData {
    spans
        .iter()
        .find(|s| s.span_context.span_id() == id)
        .unwrap_or_else(|| panic!("no span with id {id}"))
}

pub fn attr_i64(span: &SpanData, key: &str) -> i64 {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .and_then(|kv| match kv.value {
            opentelemetry::Value::I64(v) => Some(v),
            _ => None,
        })
        .unwrap_or_else(|| panic!("span {} has no i64 attribute {key}", span.name))
}

/// Panics the tests plan (messages starting with "planned") are reported by
/// the patterns; keep them out of the test output. Other panics print as usual.
pub fn quiet_planned_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let planned = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .is_some_and(|m| m.starts_with("planned"));
            if !planned {
                default(info);
            }
        }));
    });
}

/// Runs `f` on a thread and fails the test if it has not finished after a
/// generous time: a guard against hangs, not a statement about speed.
pub fn within_hang_guard<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(value) => value,
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
            // `f` panicked: fail with its panic, not with ours.
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {HANG_GUARD:?}: the pattern hangs")
        }
    }
}

pub const HANG_GUARD: Duration = Duration::from_secs(30);
