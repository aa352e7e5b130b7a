//! W3C Trace Context Level 2 and W3C Baggage, exactly, behind OpenTelemetry's
//! [`TextMapPropagator`](opentelemetry::propagation::TextMapPropagator).
//!
//! [`init`](crate::init) installs [`w3c_propagator`]. A program that sets up
//! OpenTelemetry itself swaps one line:
//!
//! ```
//! use opentelemetry::global;
//! // before: global::set_text_map_propagator(TraceContextPropagator::new());
//! global::set_text_map_propagator(otlp_csp_telemetry::propagation::w3c_propagator());
//! ```
//!
//! and reads requests through [`HeaderCarrier`], which keeps every field of a
//! repeated header (`opentelemetry_http::HeaderExtractor` works too, except
//! that it silently leaves out fields that are not visible ASCII).
//!
//! A server makes its span's context with [`context_with_span`] from the
//! context it extracted, not with `Context::current_with_span`: what the
//! propagator keeps beside the span context (a Level 2 `tracestate`, the
//! random flag) lives there. [`RandomIds`], the set-up's id generator, lets
//! it say that a trace this process begins has a random id.
//!
//! The parsers ([`parse_traceparent`], [`parse_tracestate`], [`parse_baggage`])
//! do not panic on any input (a proptest and three fuzz targets check it): bad
//! input starts a new trace or drops the offending member, and
//! [`PropagationCounters`] counts it.
//!
//! Sections cited as "§" are those of W3C Trace Context Level 2 (Candidate
//! Recommendation Draft, 28 March 2024); "Baggage §" names a section of W3C Baggage.

mod baggage;
mod carrier;
mod context;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "mutants")]
pub mod mutants;
mod propagators;
mod scan;
mod traceparent;
mod tracestate;

pub use baggage::{
    BaggageMember, MAX_BYTES as BAGGAGE_MAX_BYTES,
    MAX_MEMBERS as BAGGAGE_MAX_MEMBERS, ParsedBaggage, format_baggage, is_token,
    parse_baggage,
};
pub use carrier::{HeaderCarrier, HeaderCarrierMut};
pub use context::{RandomIds, context_with_span};
pub use propagators::{
    PropagationCounters, PropagationCounts, W3cBaggage, W3cTraceContext,
    global_counters, w3c_propagator, w3c_propagator_with,
};
pub use traceparent::{
    FLAG_RANDOM, FLAG_SAMPLED, KNOWN_FLAGS, TRACEPARENT_LEN, Traceparent,
    TraceparentError, format_traceparent, parse_traceparent,
};
pub use tracestate::{
    LONG_ENTRY_LEN, MAX_COMBINED_LEN as TRACESTATE_MAX_LEN,
    MAX_KEY_LEN as TRACESTATE_MAX_KEY_LEN, MAX_MEMBERS as TRACESTATE_MAX_MEMBERS,
    MAX_VALUE_LEN as TRACESTATE_MAX_VALUE_LEN, Tracestate, TracestateError,
    format_tracestate, merge_received, parse_tracestate,
    valid_key as valid_tracestate_key, valid_value as valid_tracestate_value,
};
