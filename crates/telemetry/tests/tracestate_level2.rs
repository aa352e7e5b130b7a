//! Level 2 `tracestate` keys that `opentelemetry::trace::TraceState` cannot
//! hold (several `@`, more than 13 characters after one) survive a real
//! service hop: extract, a server span and a client span made by the SDK's
//! tracer, inject. And when this process changes the trace state, the
//! outgoing list follows TC2 §3.5: changed keys first, the rest in order.

use http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Link, SpanKind, TraceContextExt, TraceId, TraceState, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use otlp_csp_telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, W3cTraceContext,
};

const TRACEPARENT: &str = "00-12345678901234567890123456789012-1234567890123456-01";
/// Three entries; the middle one has a key TraceState refuses (14 characters
/// after the `@`), the last one has two `@`.
const RECEIVED: &str =
    "rojo=00f067aa0ba902b7,tenant@vendorname12345=x,a@b@c=1,congo=t61rcWkgMzE";

/// Adds `mine=1` to the trace state of every span it samples, as a vendor's
/// sampler that owns a key may (TC2 §3.5: "modified keys MUST be moved to the
/// beginning").
#[derive(Clone, Debug)]
struct AddsAKey;

impl ShouldSample for AddsAKey {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent_state = parent
            .map(|cx| cx.span().span_context().trace_state().clone())
            .unwrap_or_default();
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: parent_state.insert("mine", "1").expect("a valid key"),
        }
    }
}

/// One hop: extract the request's headers, start a server span in that
/// context and a client span under it, inject for the next request.
fn forward(provider: &SdkTracerProvider, incoming: &HeaderMap) -> HeaderMap {
    let propagator = W3cTraceContext::new();
    let tracer = provider.tracer("hop");
    let parent = propagator.extract(&HeaderCarrier(incoming));
    let server = tracer.start_with_context("server", &parent);
    let server_cx = parent.with_span(server);
    let client = tracer.start_with_context("client", &server_cx);
    let client_cx = server_cx.with_span(client);
    let mut out = HeaderMap::new();
    propagator.inject_context(&client_cx, &mut HeaderCarrierMut(&mut out));
    assert_eq!(propagator.counters().snapshot(), Default::default());
    out
}

fn request() -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
    map.insert("tracestate", HeaderValue::from_static(RECEIVED));
    map
}

fn tracestate(map: &HeaderMap) -> &str {
    map.get("tracestate").unwrap().to_str().unwrap()
}

#[test]
fn the_whole_list_reaches_the_next_hop_unchanged() {
    let provider = SdkTracerProvider::builder().build();
    let out = forward(&provider, &request());
    assert_eq!(tracestate(&out), RECEIVED);
    // Same trace, new parent: the client span's id.
    let tp = out.get("traceparent").unwrap().to_str().unwrap();
    assert_eq!(&tp[..36], &TRACEPARENT[..36]);
    assert_ne!(&tp[36..52], &TRACEPARENT[36..52]);
}

#[test]
fn a_key_this_process_adds_goes_first_and_the_rest_keeps_its_order() {
    let provider = SdkTracerProvider::builder().with_sampler(AddsAKey).build();
    let out = forward(&provider, &request());
    assert_eq!(tracestate(&out), format!("mine=1,{RECEIVED}"));
}

#[test]
fn the_list_is_not_sent_on_for_another_trace() {
    // A new root span started in the extracted context (a new trace) must
    // not carry the old trace's vendor data.
    let provider = SdkTracerProvider::builder().build();
    let propagator = W3cTraceContext::new();
    let parent = propagator.extract(&HeaderCarrier(&request()));
    let root = provider
        .tracer("hop")
        .span_builder("root")
        .start_with_context(&provider.tracer("hop"), &Context::new());
    let cx = parent.with_span(root);
    let mut out = HeaderMap::new();
    propagator.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    assert!(out.get("traceparent").is_some());
    assert_ne!(
        &out.get("traceparent").unwrap().to_str().unwrap()[3..35],
        &TRACEPARENT[3..35]
    );
    assert!(out.get("tracestate").is_none(), "{out:?}");
}

#[test]
fn the_span_context_holds_the_entries_trace_state_can() {
    let propagator = W3cTraceContext::new();
    let sc = propagator
        .extract_span_context(&HeaderCarrier(&request()))
        .unwrap();
    let expected = TraceState::from_key_value([
        ("rojo", "00f067aa0ba902b7"),
        ("congo", "t61rcWkgMzE"),
    ])
    .unwrap();
    assert_eq!(sc.trace_state(), &expected);
}
