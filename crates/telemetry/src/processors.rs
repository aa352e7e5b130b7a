//! Small span processors (chapter 12): copy baggage onto spans, redact
//! attribute values, filter spans out before export, and hand one span to two
//! processors.
//!
//! `on_start` sees a span while it is being recorded (`&mut Span`) and the
//! Context it starts in; `on_end` gets the finished span as owned
//! [`SpanData`]. So a processor that adds attributes from the Context works in
//! `on_start`, and one that changes what is exported wraps the next processor
//! and changes the `SpanData` in `on_end` before handing it on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::Span as _;
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

type KeyFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Copies W3C baggage entries of the Context a span starts in onto the span
/// as attributes, optionally only the keys a filter accepts.
///
/// Register it before the exporting processor. Baggage is not copied by the
/// SDK: without this, it travels between services but never reaches a span.
#[derive(Clone, Default)]
pub struct BaggageToAttributes {
    keep: Option<KeyFilter>,
}

impl std::fmt::Debug for BaggageToAttributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaggageToAttributes")
            .field("filtered", &self.keep.is_some())
            .finish()
    }
}

impl BaggageToAttributes {
    /// Copies every entry.
    pub fn all() -> Self {
        Self::default()
    }

    /// Copies only entries whose key `keep` accepts.
    pub fn matching(keep: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self {
            keep: Some(Arc::new(keep)),
        }
    }
}

// ANCHOR: baggage
impl SpanProcessor for BaggageToAttributes {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        for (key, (value, _metadata)) in cx.baggage() {
            if self.keep.as_ref().is_none_or(|keep| keep(key.as_str())) {
                span.set_attribute(KeyValue::new(key.clone(), value.clone()));
            }
        }
    }

    fn on_end(&self, _span: SpanData) {}
    // ANCHOR_END: baggage

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// The value that replaces a redacted attribute's value.
pub const REDACTED: &str = "[REDACTED]";

/// Replaces the values of sensitive attributes (on the span and on its
/// events) with [`REDACTED`] before the wrapped processor sees the span.
///
/// A pattern is a key (`user.email`) or a prefix ending in `*`
/// (`http.request.header.*`). The key stays, so a reader sees that a value
/// existed; only the value goes.
#[derive(Debug)]
pub struct Redact<P> {
    keys: Vec<String>,
    prefixes: Vec<String>,
    redacted: Arc<AtomicU64>,
    next: P,
}

impl<P> Redact<P> {
    /// Redacts attributes matching `patterns`, then hands spans to `next`.
    pub fn new<S: Into<String>>(
        patterns: impl IntoIterator<Item = S>,
        next: P,
    ) -> Self {
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        for p in patterns {
            let p: String = p.into();
            match p.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_owned()),
                None => keys.push(p),
            }
        }
        Self {
            keys,
            prefixes,
            redacted: Arc::default(),
            next,
        }
    }

    /// How many values have been redacted so far (a handle that stays valid
    /// after the processor moves into a provider).
    pub fn redacted_counter(&self) -> Counter {
        Counter(self.redacted.clone())
    }

    fn matches(&self, key: &Key) -> bool {
        let key = key.as_str();
        self.keys.iter().any(|k| k == key)
            || self.prefixes.iter().any(|p| key.starts_with(p))
    }

    fn redact(&self, attributes: &mut [KeyValue]) {
        for kv in attributes.iter_mut().filter(|kv| self.matches(&kv.key)) {
            kv.value = Value::from(REDACTED);
            self.redacted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for Redact<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.next.on_start(span, cx);
    }

    // ANCHOR: redact
    fn on_end(&self, mut span: SpanData) {
        self.redact(&mut span.attributes);
        for event in span.events.events.iter_mut() {
            self.redact(&mut event.attributes);
        }
        self.next.on_end(span);
    }
    // ANCHOR_END: redact

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.next.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.next.set_resource(resource);
    }
}

/// A count shared between a processor and whoever reads it. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// The count now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

type SpanPredicate = Box<dyn Fn(&SpanData) -> bool + Send + Sync>;

/// Drops finished spans that match a predicate before the wrapped processor
/// sees them, and counts them as filtered: a decision, not a loss.
///
/// Filtering single spans can leave a trace with a hole (a child whose parent
/// was filtered out); keep predicates to spans nobody will look for, such as
/// health checks.
pub struct Filter<P> {
    drop_if: SpanPredicate,
    filtered: Arc<AtomicU64>,
    next: P,
}

impl<P: std::fmt::Debug> std::fmt::Debug for Filter<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("filtered", &self.filtered)
            .field("next", &self.next)
            .finish()
    }
}

impl<P> Filter<P> {
    /// Drops spans for which `drop_if` is true; hands the rest to `next`.
    pub fn new(
        drop_if: impl Fn(&SpanData) -> bool + Send + Sync + 'static,
        next: P,
    ) -> Self {
        Self {
            drop_if: Box::new(drop_if),
            filtered: Arc::default(),
            next,
        }
    }

    /// Spans filtered out so far (a handle that stays valid after the
    /// processor moves into a provider).
    pub fn filtered_counter(&self) -> Counter {
        Counter(self.filtered.clone())
    }
}

impl<P: SpanProcessor> SpanProcessor for Filter<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.next.on_start(span, cx);
    }

    // ANCHOR: filter
    fn on_end(&self, span: SpanData) {
        if (self.drop_if)(&span) {
            self.filtered.fetch_add(1, Ordering::SeqCst);
        } else {
            self.next.on_end(span);
        }
    }
    // ANCHOR_END: filter

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.next.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.next.set_resource(resource);
    }
}

/// Hands every span to `first` (a copy) and then to `second`.
///
/// A provider gives each registered processor its own copy of every span;
/// `Tee` lets a wrapper such as [`Filter`] sit in front of two processors,
/// e.g. [`CountEnded`](crate::CountEnded) and an exporting one, so that a
/// filtered span is neither counted as ended nor exported.
#[derive(Debug)]
pub struct Tee<A, B> {
    first: A,
    second: B,
}

impl<A, B> Tee<A, B> {
    /// Both processors, in this order.
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

impl<A: SpanProcessor, B: SpanProcessor> SpanProcessor for Tee<A, B> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.first.on_start(span, cx);
        self.second.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.first.on_end(span.clone());
        self.second.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        let first = self.first.force_flush();
        first.and(self.second.force_flush())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let first = self.first.shutdown_with_timeout(timeout);
        first.and(self.second.shutdown_with_timeout(timeout))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.first.set_resource(resource);
        self.second.set_resource(resource);
    }
}
