//! The two propagators and the counters of what they refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};

use super::baggage::{format_baggage, parse_baggage};
use super::context::RandomTraceId;
#[cfg(feature = "mutants")]
use super::mutants::Mutant;
use super::scan;
use super::traceparent::{
    FLAG_RANDOM, KNOWN_FLAGS, TraceparentError, format_traceparent,
    parse_traceparent,
};
use super::tracestate::{
    format_tracestate, merge_received, parse_tracestate, split_entries,
};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const BAGGAGE: &str = "baggage";

/// What the propagators refused or dropped, so that nothing disappears
/// without being counted. Cheap to clone; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct PropagationCounters(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    traceparent_rejected: AtomicU64,
    tracestate_discarded: AtomicU64,
    tracestate_entries_dropped: AtomicU64,
    baggage_members_dropped: AtomicU64,
}

/// A snapshot of [`PropagationCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PropagationCounts {
    /// `traceparent` fields present but invalid: each started a new trace.
    pub traceparent_rejected: u64,
    /// `tracestate` lists discarded as a whole (an invalid member, or more than 32).
    pub tracestate_discarded: u64,
    /// Single `tracestate` entries dropped: a repeated key, or truncation to
    /// the 512-character maximum.
    pub tracestate_entries_dropped: u64,
    /// Baggage members dropped: invalid, over the limits, or not representable.
    pub baggage_members_dropped: u64,
}

impl PropagationCounters {
    /// The counts so far.
    pub fn snapshot(&self) -> PropagationCounts {
        let i = &self.0;
        PropagationCounts {
            traceparent_rejected: i.traceparent_rejected.load(Relaxed),
            tracestate_discarded: i.tracestate_discarded.load(Relaxed),
            tracestate_entries_dropped: i.tracestate_entries_dropped.load(Relaxed),
            baggage_members_dropped: i.baggage_members_dropped.load(Relaxed),
        }
    }
}

fn add(counter: &AtomicU64, n: usize) {
    if n > 0 {
        counter.fetch_add(n as u64, Relaxed);
    }
}

/// W3C Trace Context Level 2 (`traceparent`, `tracestate`) behind
/// OpenTelemetry's [`TextMapPropagator`]: a drop-in replacement for
/// `opentelemetry_sdk::propagation::TraceContextPropagator`.
#[derive(Clone, Debug, Default)]
pub struct W3cTraceContext {
    fields: [String; 2],
    counters: PropagationCounters,
    #[cfg(feature = "mutants")]
    planted: Option<Mutant>,
}

impl W3cTraceContext {
    /// A propagator with counters of its own.
    pub fn new() -> Self {
        Self::with_counters(PropagationCounters::default())
    }

    /// A propagator that counts into `counters`.
    pub fn with_counters(counters: PropagationCounters) -> Self {
        Self {
            fields: [TRACEPARENT.to_owned(), TRACESTATE.to_owned()],
            counters,
            #[cfg(feature = "mutants")]
            planted: None,
        }
    }

    /// This propagator with one deliberate bug, for the tests that show a
    /// check rejects it.
    #[cfg(feature = "mutants")]
    pub fn with_planted_bug(mut self, bug: Mutant) -> Self {
        self.planted = Some(bug);
        self
    }

    /// Whether `cx` records that the trace `sc` belongs to has a random id.
    fn random_recorded(&self, cx: &Context, sc: &SpanContext) -> bool {
        #[cfg(feature = "mutants")]
        match self.planted {
            Some(Mutant::ForgetsRandom) => return false,
            Some(Mutant::ClaimsRandom) if !sc.is_remote() => return true,
            _ => {}
        }
        cx.get::<RandomTraceId>()
            .is_some_and(|r| r.0 == sc.trace_id())
    }

    /// What this propagator has refused so far.
    pub fn counters(&self) -> &PropagationCounters {
        &self.counters
    }

    /// The remote span context a request carries, or why there is none.
    ///
    /// Its `TraceState` holds the entries of the request's `tracestate`
    /// that `opentelemetry::trace::TraceState` can store; see
    /// [`TextMapPropagator::extract_with_context`] for the rest.
    pub fn extract_span_context(
        &self,
        extractor: &dyn Extractor,
    ) -> Result<SpanContext, TraceparentError> {
        self.extract_parts(extractor).map(|(sc, _)| sc)
    }

    fn extract_parts(
        &self,
        extractor: &dyn Extractor,
    ) -> Result<(SpanContext, Option<ReceivedTracestate>), TraceparentError> {
        let fields = extractor.get_all(TRACEPARENT).unwrap_or_default();
        // One field only: two fields combine (RFC 9110 §5.3) into "a, b",
        // which is not a traceparent.
        let tp = match fields.as_slice() {
            [one] => parse_traceparent(one),
            other => Err(TraceparentError::FieldCount(other.len())),
        };
        let tp = match tp {
            Ok(tp) => tp,
            Err(e) => {
                if e != TraceparentError::FieldCount(0) {
                    add(&self.counters.0.traceparent_rejected, 1);
                }
                return Err(e);
            }
        };
        let trace_id = TraceId::from_bytes(tp.trace_id);
        // §3.3: tracestate is read only now that traceparent is valid.
        let (state, received) = match extractor.get_all(TRACESTATE) {
            None => (TraceState::NONE, None),
            Some(fields) => match direct_trace_state(&fields) {
                Some(state) => (state, None),
                None => parse_received(&self.counters, fields, trace_id),
            },
        };
        let sc = SpanContext::new(
            trace_id,
            SpanId::from_bytes(tp.parent_id),
            // §3.2.2.5.3: bits this version does not define are set to zero.
            TraceFlags::new(tp.flags & KNOWN_FLAGS),
            true,
            state,
        );
        Ok((sc, received))
    }
}

/// A received `tracestate` that `opentelemetry::trace::TraceState` could not
/// hold whole. `TraceState` checks keys by Level 1 rules (at most one `@`,
/// at most 13 characters after it), while Level 2 allows any key of up to
/// 256 characters from `a-z`, digits and `_-*/@`. So the whole list travels
/// in the `Context` next to the span context, and [`W3cTraceContext`] sends
/// it on for every span of the same trace made in that context (a context
/// made from it by `with_span` keeps its values).
#[derive(Clone, Debug)]
struct ReceivedTracestate {
    trace_id: TraceId,
    /// The validated list, in header order.
    received: Vec<(String, String)>,
    /// The part of it stored in the span context's `TraceState`.
    held: Vec<(String, String)>,
}

/// The `TraceState` of a request whose one `tracestate` field is already
/// what this propagator would send on, built straight from the field: no
/// list of owned entries in between. `None` for everything else (several
/// fields, a list to repair, a key `TraceState` cannot hold), which goes
/// through [`parse_received`]. For a field that passes, both give the same
/// state: [`is_forwardable`] accepts only lists that `parse_tracestate`
/// keeps whole.
fn direct_trace_state(fields: &[&str]) -> Option<TraceState> {
    let [field] = fields else { return None };
    if !is_forwardable(field) {
        return None;
    }
    TraceState::from_key_value(
        scan::split(field, b',').filter_map(|m| scan::split_once(m, b'=')),
    )
    .ok()
}

/// A request's `tracestate` fields, validated and repaired, with what was
/// dropped counted: the state for the span context and, when `TraceState`
/// could not hold the whole list, the list to keep beside it.
fn parse_received(
    counters: &PropagationCounters,
    fields: Vec<&str>,
    trace_id: TraceId,
) -> (TraceState, Option<ReceivedTracestate>) {
    match parse_tracestate(fields) {
        Ok(ts) => {
            add(
                &counters.0.tracestate_entries_dropped,
                ts.duplicates_dropped + ts.truncated,
            );
            let (state, partly_held) = to_trace_state(&ts.entries);
            // Only when TraceState could not hold the whole list does
            // the list need a place of its own.
            let received = partly_held.map(|held| ReceivedTracestate {
                trace_id,
                received: ts.entries,
                held,
            });
            (state, received)
        }
        Err(_) => {
            add(&counters.0.tracestate_discarded, 1);
            (TraceState::NONE, None)
        }
    }
}

/// Whether a `TraceState` header can go out as it is: within the limits,
/// every member valid, every key once. Checked without allocating; anything
/// else goes through [`parse_tracestate`], which repairs or refuses it.
fn is_forwardable(header: &str) -> bool {
    use super::tracestate::{MAX_COMBINED_LEN, MAX_MEMBERS, valid_key, valid_value};
    if header.len() > MAX_COMBINED_LEN {
        return false;
    }
    // The keys seen so far, on the stack: one pass over the header.
    let mut keys = [""; MAX_MEMBERS];
    for (i, member) in scan::split(header, b',').enumerate() {
        let Some((key, value)) = scan::split_once(member, b'=') else {
            return false;
        };
        if i >= MAX_MEMBERS
            || !valid_key(key)
            || !valid_value(value)
            || keys[..i].contains(&key)
        {
            return false;
        }
        keys[i] = key;
    }
    true
}

/// The entries `TraceState` can hold, stored in one; and, only when it
/// could not hold them all, the list of those it does.
fn to_trace_state(
    entries: &[(String, String)],
) -> (TraceState, Option<Vec<(String, String)>>) {
    if entries.is_empty() {
        return (TraceState::NONE, None);
    }
    if let Ok(state) =
        TraceState::from_key_value(entries.iter().map(|(k, v)| (k, v)))
    {
        return (state, None);
    }
    let held: Vec<(String, String)> = entries
        .iter()
        .filter(|(k, v)| TraceState::NONE.insert(k.clone(), v.clone()).is_ok())
        .cloned()
        .collect();
    // Every pair passed `insert`'s own checks, so this cannot fail.
    let state = TraceState::from_key_value(held.iter().map(|(k, v)| (k, v)))
        .unwrap_or_default();
    (state, Some(held))
}

impl TextMapPropagator for W3cTraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        // ANCHOR: random_flag
        // §3.2.2.5.2: the random flag goes out for every span of a trace whose
        // id came in with it or was made by `RandomIds`, even when the SDK's
        // tracer left it out of the span context (a dropped span has `00`).
        let mut flags = sc.trace_flags().to_u8();
        if self.random_recorded(cx, sc) {
            flags |= FLAG_RANDOM;
        }
        // ANCHOR_END: random_flag
        injector.set(
            TRACEPARENT,
            format_traceparent(
                sc.trace_id().to_bytes(),
                sc.span_id().to_bytes(),
                flags,
            ),
        );
        // §3.3.2: "Vendors ... SHOULD avoid sending" empty tracestate headers;
        // §3.3.3.1: whole entries are truncated to the documented maximum.
        let now = sc.trace_state().header();
        let header = match cx.get::<ReceivedTracestate>() {
            Some(r) if r.trace_id == sc.trace_id() => format_tracestate(
                &merge_received(&r.received, &r.held, &split_entries(&now)),
            ),
            _ => now,
        };
        if header.is_empty() {
            return;
        }
        if is_forwardable(&header) {
            injector.set(TRACESTATE, header);
            return;
        }
        match parse_tracestate([header.as_str()]) {
            Ok(ts) => {
                add(&self.counters.0.tracestate_entries_dropped, ts.truncated);
                if !ts.entries.is_empty() {
                    injector.set(TRACESTATE, ts.header());
                }
            }
            // `TraceState` accepts a few values TC2 does not (an empty one, a
            // tab): such a list is not sent, and that is counted.
            Err(_) => add(&self.counters.0.tracestate_discarded, 1),
        }
    }

    fn extract_with_context(
        &self,
        cx: &Context,
        extractor: &dyn Extractor,
    ) -> Context {
        let Ok((sc, received)) = self.extract_parts(extractor) else {
            return cx.clone();
        };
        let random = sc.trace_flags().to_u8() & FLAG_RANDOM != 0;
        let id = sc.trace_id();
        let mut cx = cx.with_remote_span_context(sc);
        if let Some(received) = received {
            cx = cx.with_value(received);
        }
        // Kept beside the span context: a server span the sampler drops
        // gets flags `00` from the SDK's tracer, and the bit must not be lost.
        // An unset flag overrides what `cx` may say about the same trace.
        let recorded = cx.get::<RandomTraceId>().is_some_and(|r| r.0 == id);
        if random {
            cx = cx.with_value(RandomTraceId(id));
        } else if recorded {
            cx = cx.with_value(RandomTraceId(TraceId::INVALID));
        }
        cx
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// W3C Baggage behind OpenTelemetry's [`TextMapPropagator`]: a drop-in
/// replacement for `opentelemetry_sdk::propagation::BaggagePropagator`.
#[derive(Clone, Debug, Default)]
pub struct W3cBaggage {
    fields: [String; 1],
    counters: PropagationCounters,
}

impl W3cBaggage {
    /// A propagator with counters of its own.
    pub fn new() -> Self {
        Self::with_counters(PropagationCounters::default())
    }

    /// A propagator that counts into `counters`.
    pub fn with_counters(counters: PropagationCounters) -> Self {
        Self {
            fields: [BAGGAGE.to_owned()],
            counters,
        }
    }

    /// What this propagator has dropped so far.
    pub fn counters(&self) -> &PropagationCounters {
        &self.counters
    }
}

impl TextMapPropagator for W3cBaggage {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        // Sorted, so that the same baggage always gives the same header.
        let mut members: Vec<_> = baggage
            .iter()
            .map(|(k, (v, m))| (k.as_str(), v.as_str(), m.as_str()))
            .collect();
        members.sort_unstable();
        let (header, skipped) = format_baggage(members);
        add(&self.counters.0.baggage_members_dropped, skipped);
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(
        &self,
        cx: &Context,
        extractor: &dyn Extractor,
    ) -> Context {
        let Some(fields) = extractor.get_all(BAGGAGE) else {
            return cx.clone();
        };
        let parsed = parse_baggage(fields);
        let members = parsed.members.len();
        let baggage: opentelemetry::baggage::Baggage = parsed
            .members
            .into_iter()
            .map(|m| KeyValueMetadata::new(m.key, m.value, m.properties))
            .collect();
        let not_stored = members - baggage.len();
        add(
            &self.counters.0.baggage_members_dropped,
            parsed.invalid + parsed.over_limit + not_stored,
        );
        cx.with_baggage(baggage)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Both propagators, sharing `counters`: what `init` installs globally.
pub fn w3c_propagator_with(
    counters: PropagationCounters,
) -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(W3cTraceContext::with_counters(counters.clone())),
        Box::new(W3cBaggage::with_counters(counters)),
    ])
}

/// Both propagators, counting into the process-wide [`global_counters`].
pub fn w3c_propagator() -> TextMapCompositePropagator {
    w3c_propagator_with(global_counters())
}

/// The counters of the propagators made by [`w3c_propagator`].
pub fn global_counters() -> PropagationCounters {
    static GLOBAL: std::sync::OnceLock<PropagationCounters> =
        std::sync::OnceLock::new();
    GLOBAL.get_or_init(PropagationCounters::default).clone()
}
