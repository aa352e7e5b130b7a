//! How the patterns trace their work, with the OpenTelemetry API only.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::global;
use opentelemetry::trace::{
    Link, Span as _, SpanBuilder, SpanContext, SpanId, Status, TraceContextExt,
    TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE, MESSAGING_BATCH_MESSAGE_COUNT,
};

use crate::error::panic_message;
use crate::messaging::{Destination, ERROR_CANCELLED, ERROR_PANIC};

/// The instrumentation scope name of the patterns' spans.
pub const SCOPE: &str = "otlp-csp-patterns";

/// A value with the [`Context`] it was produced in: what the patterns send
/// down their channels, so that the receiving side can start its span as a
/// child of the producer's span.
#[derive(Clone, Debug)]
pub struct Traced<T> {
    /// The producer's context (holding its span, if any).
    pub cx: Context,
    /// The payload.
    pub value: T,
}

impl<T> Traced<T> {
    /// Pairs `value` with an explicit context.
    pub fn new(cx: Context, value: T) -> Self {
        Self { cx, value }
    }

    /// Pairs `value` with the calling thread's current context.
    pub fn current(value: T) -> Self {
        Self {
            cx: Context::current(),
            value,
        }
    }
}

/// Where a pattern's spans go.
///
/// [`Tracing::global`] (the default) uses the global tracer provider as it is
/// when the pattern is built. With no provider installed that is
/// OpenTelemetry's no-op tracer, and the pattern then behaves as with
/// [`Tracing::off`]: no tracer calls at all, and each item's context is
/// carried through unchanged, so code inside a stage still sees its
/// producer's span. Install the provider before building the patterns.
#[derive(Clone)]
pub struct Tracing {
    tracer: Option<Arc<dyn Start>>,
}

/// A tracer with its span type erased behind the one call the patterns
/// make, rather than behind `global::BoxedTracer`: a recording span is then boxed
/// once, when it goes into its context, not also by the tracer.
trait Start: Send + Sync {
    /// Starts `span` as a child of `parent`.
    fn start(&self, span: SpanBuilder, parent: &Context) -> Step;
}

impl<T> Start for T
where
    T: Tracer + Send + Sync,
    T::Span: Send + Sync + 'static,
{
    fn start(&self, span: SpanBuilder, parent: &Context) -> Step {
        Step::start(self.build_with_context(span, parent), parent)
    }
}

impl std::fmt::Debug for Tracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.tracer.is_some() {
            "Tracing(on)"
        } else {
            "Tracing(off)"
        })
    }
}

impl Default for Tracing {
    fn default() -> Self {
        Self::global()
    }
}

impl Tracing {
    /// The global provider's tracer, scope [`SCOPE`], as it is now.
    pub fn global() -> Self {
        Self::new(global::tracer(SCOPE))
    }

    /// A given tracer, e.g. from a provider a test owns (so tests do not
    /// share the global one).
    pub fn with_tracer<T, S>(tracer: T) -> Self
    where
        T: Tracer<Span = S> + Send + Sync + 'static,
        S: opentelemetry::trace::Span + Send + Sync + 'static,
    {
        Self::new(tracer)
    }

    fn new<T>(tracer: T) -> Self
    where
        T: Tracer + Send + Sync + 'static,
        T::Span: Send + Sync + 'static,
    {
        // A tracer that only hands back its parent's span context (the no-op
        // tracer) would make every step pay for a call that changes nothing:
        // carrying the contexts without it gives the same result.
        if only_propagates(&tracer) {
            return Self::off();
        }
        Self {
            tracer: Some(Arc::new(tracer)),
        }
    }

    /// No spans at all.
    pub fn off() -> Self {
        Self { tracer: None }
    }

    /// Whether this starts no spans: each step then runs in its item's
    /// context, passed through unchanged.
    pub(crate) fn is_off(&self) -> bool {
        self.tracer.is_none()
    }

    /// Starts the span of processing one item taken from `destination`,
    /// whose creation context is `parent`: a CONSUMER span, its child.
    pub(crate) fn process(
        &self,
        destination: &Destination,
        parent: &Context,
    ) -> Step {
        match &self.tracer {
            None => Step::passthrough(parent),
            Some(tracer) => tracer.start(destination.process(), parent),
        }
    }

    /// Starts the span of processing a batch of `size` items taken from
    /// `destination`: a CONSUMER span with `messaging.batch.message_count`,
    /// in a new trace, linked to each item's span (a batch has many
    /// producers, and a span has one parent).
    ///
    /// A provider keeps at most `links_per_span` links on a span and drops
    /// the rest, so the batch span takes the first `links_per_span` and each
    /// further `links_per_span` go on a child span named [`BATCH_LINKS`],
    /// started and ended at once. All links are given at start, where a
    /// sampler sees them. `links_per_span == 0` (a provider that keeps no
    /// links) leaves every link on the batch span, for the provider to count
    /// as dropped.
    pub(crate) fn batch<'a>(
        &self,
        destination: &Destination,
        items: impl Iterator<Item = &'a Context>,
        size: usize,
        links_per_span: usize,
    ) -> Step {
        let Some(tracer) = &self.tracer else {
            return Step::passthrough(&Context::new());
        };
        let items: Vec<SpanContext> = items
            .map(|cx| cx.span().span_context().clone())
            .filter(SpanContext::is_valid)
            .collect();
        let per_span = match links_per_span {
            0 => items.len().max(1),
            n => n,
        };
        let mut links = items
            .chunks(per_span)
            .map(|chunk| chunk.iter().cloned().map(Link::with_context).collect());
        let mut span = destination.process();
        let count = KeyValue::new(MESSAGING_BATCH_MESSAGE_COUNT, size as i64);
        span.attributes.get_or_insert_with(Vec::new).push(count);
        let span = span.with_links(links.next().unwrap_or_default());
        let step = tracer.start(span, &Context::new());
        if step.context().span().is_recording() {
            for links in links {
                let span = SpanBuilder::from_name(BATCH_LINKS).with_links(links);
                tracer.start(span, step.context()).end();
            }
        }
        step
    }
}

/// The name of the child spans that carry a batch's links beyond the first
/// `links_per_span` (see [`threads::Batcher`](crate::threads::Batcher)).
pub const BATCH_LINKS: &str = "batch.links";

/// The most links the OpenTelemetry SDK keeps on one span unless told
/// otherwise: its default `SpanLimits::max_links_per_span`, and the
/// specification's default for `OTEL_SPAN_LINK_COUNT_LIMIT`.
pub const LINK_LIMIT: usize = 128;

/// The link limit of a provider configured from the environment:
/// `OTEL_SPAN_LINK_COUNT_LIMIT` if it parses as a `u32` (as the SDK parses
/// it), else [`LINK_LIMIT`].
pub(crate) fn link_limit_from_env() -> usize {
    link_limit(std::env::var("OTEL_SPAN_LINK_COUNT_LIMIT").ok().as_deref())
}

fn link_limit(var: Option<&str>) -> usize {
    var.and_then(|v| v.parse::<u32>().ok())
        .map_or(LINK_LIMIT, |n| n as usize)
}

/// Whether `tracer` is the no-op tracer, or behaves like it: asked for a
/// span under a parent, it returns the parent's span context and records
/// nothing. The probe runs with telemetry suppressed, under which the SDK's
/// tracer returns an empty, unrecorded span, so the probe is never exported.
fn only_propagates<T: Tracer>(tracer: &T) -> bool {
    let probe = SpanContext::new(
        TraceId::from(1),
        SpanId::from(1),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let parent = Context::new()
        .with_remote_span_context(probe.clone())
        .with_telemetry_suppressed();
    let span = tracer.start_with_context("otlp-csp-patterns.probe", &parent);
    !span.is_recording() && span.span_context() == &probe
}

/// A span in progress, or the parent's context passed through when there is
/// no span to start. Ends its span when dropped: if the thread is unwinding
/// from a panic the span records it, else the step was abandoned
/// (cancelled).
pub(crate) struct Step {
    cx: Context,
    /// Whether the step still has a span of its own to end. Atomic so that a
    /// `&Step` can be shared (a task holds one across an await).
    owned: AtomicBool,
}

impl Step {
    fn passthrough(parent: &Context) -> Self {
        Self {
            cx: parent.clone(),
            owned: AtomicBool::new(false),
        }
    }

    fn start<S>(span: S, parent: &Context) -> Self
    where
        S: opentelemetry::trace::Span + Send + Sync + 'static,
    {
        // A no-op tracer returns a span that only repeats the parent's span
        // context. Wrapping it in a new Context would cost an allocation and
        // change nothing, so pass the parent through instead.
        if !span.is_recording() {
            if span.span_context() == parent.span().span_context() {
                return Self::passthrough(parent);
            }
            // An unsampled span: it records nothing, and ending it does
            // nothing (the SDK hands only recording spans to its processors).
            // Its children need only its span context, so the context holds
            // that alone (`with_remote_span_context` stores it as it is; it
            // stays a local one): no boxed span, no lock, no clock read when
            // the step ends. This is what keeps a 1 % sample cheap.
            let span_context = span.span_context().clone();
            drop(span);
            return Self {
                cx: parent.with_remote_span_context(span_context),
                owned: AtomicBool::new(false),
            };
        }
        Self {
            cx: parent.with_span(span),
            owned: AtomicBool::new(true),
        }
    }

    fn owned(&self) -> bool {
        self.owned.load(Ordering::Relaxed)
    }

    /// Whether the step had a span of its own to end; it has none after.
    /// Most steps own none (untraced, unsampled): they pay a load, not the
    /// read-modify-write of the swap.
    fn take_owned(&self) -> bool {
        self.owned() && self.owned.swap(false, Ordering::Relaxed)
    }

    /// The context to run the step's code in, and to send downstream.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// Adds an attribute to the step's span, if it has one.
    pub(crate) fn attribute(&self, kv: impl FnOnce() -> KeyValue) {
        if self.owned() {
            self.cx.span().set_attribute(kv());
        }
    }

    /// Runs `f` in the step's context. A panic in `f` is recorded on the
    /// span, which it ends, and then goes on unwinding.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _in_span = self.cx.clone().attach();
            f()
        }));
        outcome.unwrap_or_else(|payload| self.resume_panic(payload))
    }

    /// Records the panic `payload` on the span, ends it, and resumes the panic.
    pub(crate) fn resume_panic(&self, payload: Box<dyn Any + Send>) -> ! {
        self.panicked(&panic_message(payload.as_ref()));
        resume_unwind(payload)
    }

    /// Ends the span and returns the context for the next step.
    pub(crate) fn end(mut self) -> Context {
        if self.take_owned() {
            self.cx.span().end();
        }
        std::mem::take(&mut self.cx)
    }

    // ANCHOR: failures
    /// Records a panic in the step's code and ends the span: an `exception`
    /// event, `error.type` `panic`, and status Error.
    pub(crate) fn panicked(&self, message: &str) {
        if self.take_owned() {
            self.cx.span().add_event(
                "exception",
                vec![
                    KeyValue::new(EXCEPTION_TYPE, ERROR_PANIC),
                    KeyValue::new(EXCEPTION_MESSAGE, message.to_owned()),
                ],
            );
            self.fail(ERROR_PANIC, format!("panicked: {message}"));
            self.cx.span().end();
        }
    }

    /// Marks the span as failed: the class of the error as `error.type`,
    /// and status Error with a description.
    fn fail(&self, error_type: &'static str, description: String) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
        span.set_status(Status::error(description));
    }
    // ANCHOR_END: failures
}

impl Drop for Step {
    fn drop(&mut self) {
        if self.take_owned() {
            if std::thread::panicking() {
                // The patterns catch their code's panics and record them
                // with the message; this fallback does not know it.
                let kind = KeyValue::new(EXCEPTION_TYPE, ERROR_PANIC);
                self.cx.span().add_event("exception", vec![kind]);
                self.fail(ERROR_PANIC, "panicked".to_owned());
            } else {
                self.fail(ERROR_CANCELLED, "abandoned (cancelled)".to_owned());
            }
            self.cx.span().end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LINK_LIMIT, link_limit};

    #[test]
    fn the_link_limit_is_read_from_the_environment_as_the_sdk_reads_it() {
        assert_eq!(link_limit(None), LINK_LIMIT);
        assert_eq!(link_limit(Some("50")), 50);
        assert_eq!(link_limit(Some("0")), 0);
        // The SDK ignores a value that is not a u32; so does the batcher.
        for bad in ["", " 50", "-1", "1e3", "4294967296"] {
            assert_eq!(link_limit(Some(bad)), LINK_LIMIT, "{bad:?}");
        }
    }
}
