//! The pitfall of chapter 10: a server span's context made with
//! `Context::current_with_span` starts from the current context, not the
//! extracted one, and so loses what the propagator keeps beside the span
//! context: a Level 2 `tracestate` key `TraceState` cannot hold, and a
//! received random flag once the sampler has dropped the span.
//! `propagation::context_with_span` keeps both. The test runs both ways, so
//! it fails if the helper ever behaves like the pitfall.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Span};
use otlp_csp_telemetry::propagation::{W3cTraceContext, context_with_span};

const TRACEPARENT: &str = "00-12345678901234567890123456789012-1234567890123456-02";
const TRACESTATE: &str = "rojo=1,a@b@c=1";

// ANCHOR: forward
/// Serves one request (flags `02`: random, not sampled, so the sampler
/// drops the server span) and returns the flags and `tracestate` the
/// service sends on, its server span's context made by `make`.
fn forward(make: fn(&Context, Span) -> Context) -> (String, Option<String>) {
    let sampler = Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
    let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
    let tracer = provider.tracer("server");
    let propagator = W3cTraceContext::new();
    let incoming = HashMap::from([
        ("traceparent".to_owned(), TRACEPARENT.to_owned()),
        ("tracestate".to_owned(), TRACESTATE.to_owned()),
    ]);
    let parent = propagator.extract(&incoming);
    let span = tracer.start_with_context("GET /work", &parent);
    let cx = make(&parent, span);
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    (
        out["traceparent"][53..].to_owned(),
        out.remove("tracestate"),
    )
}
// ANCHOR_END: forward

// ANCHOR: check
#[test]
fn the_pitfall_drops_what_the_helper_keeps() {
    let pitfall = forward(|_, span| Context::current_with_span(span));
    let helper = forward(context_with_span);
    // The whole list and the random bit reach the next hop...
    assert_eq!(helper, ("02".to_owned(), Some(TRACESTATE.to_owned())));
    // ...but only what the span context holds survives the pitfall.
    assert_eq!(pitfall, ("00".to_owned(), Some("rojo=1".to_owned())));
}
// ANCHOR_END: check

#[test]
fn the_helper_is_parent_with_span_for_a_span_that_continues_the_trace() {
    // Same span, same values: the helper adds nothing to a continued trace.
    let out = forward(|parent, span| parent.with_span(span));
    assert_eq!(out, ("02".to_owned(), Some(TRACESTATE.to_owned())));
}
