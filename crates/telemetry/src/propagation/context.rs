//! The context a span's work runs in, built so that the propagator can
//! forward the trace exactly: [`context_with_span`], and the id generator
//! of the book's set-up, [`RandomIds`], which lets it say a new trace's id
//! is random (TC2 §3.2.2.5.2).
//!
//! Two things a `traceparent` and `tracestate` say do not fit in the span
//! context the SDK's tracer builds, so [`W3cTraceContext`] keeps them in the
//! `Context` beside it: the whole received `tracestate` when
//! `opentelemetry::trace::TraceState` cannot hold it, and the random flag,
//! which the SDK's tracer sets to `0` for a span its sampler drops and never
//! sets for a trace it starts. A `Context` made from the extracted one keeps
//! both; `Context::current_with_span` starts from another context and loses
//! them.
//!
//! [`W3cTraceContext`]: super::W3cTraceContext

use std::cell::Cell;

use opentelemetry::Context;
use opentelemetry::trace::{Span, SpanId, TraceContextExt, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

/// In a `Context`: the trace with this id has a random trace id, so every
/// `traceparent` sent for it carries the random flag. Put there by
/// [`W3cTraceContext`](super::W3cTraceContext)'s extract when the flag came
/// in set, and by [`context_with_span`] for a trace [`RandomIds`] began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RandomTraceId(pub(super) TraceId);

thread_local! {
    /// The last trace id [`RandomIds`] made on this thread (0: none yet;
    /// a valid trace id is never 0).
    static LAST_RANDOM: Cell<u128> = const { Cell::new(0) };
}

fn as_u128(id: TraceId) -> u128 {
    u128::from_be_bytes(id.to_bytes())
}

/// The id generator of the book's set-up: the SDK's [`RandomIdGenerator`]
/// (128 bits from a `SmallRng` seeded by the operating system, uniform over
/// every value), which also remembers, per thread, the last trace id it made.
/// [`context_with_span`] reads that to tell a trace this generator began
/// from one whose id came from somewhere else.
#[derive(Clone, Debug, Default)]
pub struct RandomIds(RandomIdGenerator);

impl IdGenerator for RandomIds {
    fn new_trace_id(&self) -> TraceId {
        let id = self.0.new_trace_id();
        LAST_RANDOM.with(|last| last.set(as_u128(id)));
        id
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

// ANCHOR: context_with_span
/// The context `span` runs in: `parent.with_span(span)`, the span started in
/// `parent`. Use it for a server span, with the context extracted from the
/// request as `parent`, in place of `Context::current_with_span(span)`,
/// which starts from the *current* context and so drops what the
/// propagator keeps in the extracted one: `tracestate` keys that
/// `TraceState` cannot hold, and a received random flag that the span's
/// context lost because the sampler dropped it.
///
/// When `span` begins a trace (its trace id is not its parent's) and
/// [`RandomIds`] made that id on this thread, the context also records that
/// the id is random, so the propagator sets the random flag for it. Call it
/// right after starting the span, on the same thread.
pub fn context_with_span<S>(parent: &Context, span: S) -> Context
where
    S: Span + Send + Sync + 'static,
{
    let id = span.span_context().trace_id();
    let parent_span = parent.span();
    let parent_sc = parent_span.span_context();
    let continues = parent_sc.is_valid() && parent_sc.trace_id() == id;
    let ours =
        id != TraceId::INVALID && LAST_RANDOM.with(|last| last.get() == as_u128(id));
    let cx = parent.with_span(span);
    if !continues && ours {
        cx.with_value(RandomTraceId(id))
    } else {
        cx
    }
}
// ANCHOR_END: context_with_span
