//! Chapter 10: what reading and forwarding one request's trace context costs,
//! with the book's W3C propagators and with the SDK's.
//!
//! One iteration extracts `traceparent`, `tracestate` (3 entries) and `baggage`
//! (3 members) from a header map and injects the result into a fresh one, as a
//! service forwarding the request does. A third case has a Level 2 key in
//! the `tracestate` that `TraceState` cannot hold, so the book's propagator
//! also keeps the whole list in the `Context`. A fourth builds only what
//! every propagator behind the API must build: the floor under both.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use otlp_csp::telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, W3cBaggage, W3cTraceContext,
};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");
const TRACEPARENT_VALUE: &str =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const BAGGAGE_VALUE: &str = "userId=alice,serverNode=DF%2028,isProduction=false";

fn request(tracestate: &'static str) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in [
        (TRACEPARENT, TRACEPARENT_VALUE),
        (TRACESTATE, tracestate),
        (BAGGAGE, BAGGAGE_VALUE),
    ] {
        map.append(name, HeaderValue::from_static(value));
    }
    map
}

fn book_propagators() -> (W3cTraceContext, W3cBaggage) {
    (W3cTraceContext::new(), W3cBaggage::new())
}

fn sdk_propagators() -> (TraceContextPropagator, BaggagePropagator) {
    (TraceContextPropagator::new(), BaggagePropagator::new())
}

/// The book's propagators: extract from `map`, inject into a fresh map.
fn book(
    trace: &W3cTraceContext,
    baggage: &W3cBaggage,
    map: &HeaderMap,
) -> HeaderMap {
    let carrier = HeaderCarrier(black_box(map));
    let cx = baggage.extract_with_context(
        &trace.extract_with_context(&Context::new(), &carrier),
        &carrier,
    );
    let mut out = HeaderMap::new();
    trace.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    baggage.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    out
}

/// The same with the SDK's propagators and `opentelemetry-http`'s carriers.
fn sdk(
    trace: &TraceContextPropagator,
    baggage: &BaggagePropagator,
    map: &HeaderMap,
) -> HeaderMap {
    let carrier = HeaderExtractor(black_box(map));
    let cx = baggage.extract_with_context(
        &trace.extract_with_context(&Context::new(), &carrier),
        &carrier,
    );
    let mut out = HeaderMap::new();
    trace.inject_context(&cx, &mut HeaderInjector(&mut out));
    baggage.inject_context(&cx, &mut HeaderInjector(&mut out));
    out
}

/// The request every case but the Level 2 one reads.
fn level1_request() -> HeaderMap {
    request("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:8")
}

fn propagation(c: &mut Criterion) {
    let map = level1_request();
    let level2 = request("rojo=00f067aa0ba902b7,tenant@vendorname12345=x,ot=th:8");
    let mut group = c.benchmark_group("ch10_propagation_cost");

    let (trace, baggage) = book_propagators();
    for (name, map) in [
        ("book_extract_inject", &map),
        ("book_extract_inject_level2_key", &level2),
    ] {
        group.bench_function(name, |b| b.iter(|| book(&trace, &baggage, map)));
    }

    let (trace, baggage) = sdk_propagators();
    group.bench_function("sdk_extract_inject", |b| {
        b.iter(|| sdk(&trace, &baggage, &map))
    });

    group.bench_function("api_floor", |b| b.iter(api_floor));
    group.finish();
}

// ANCHOR: floor
/// What any propagator behind OpenTelemetry's API builds for this request,
/// with the parsing left out: the `TraceState`, the span context, the
/// `Baggage`, and the `Context` holding both.
fn floor_context() -> Context {
    let entries = [
        ("rojo", "00f067aa0ba902b7"),
        ("congo", "t61rcWkgMzE"),
        ("ot", "th:8"),
    ];
    let state =
        TraceState::from_key_value(black_box(entries)).expect("valid entries");
    let span_context = SpanContext::new(
        TraceId::from_bytes(black_box([7; 16])),
        SpanId::from_bytes(black_box([3; 8])),
        TraceFlags::SAMPLED,
        true,
        state,
    );
    let members = [
        ("userId", "alice"),
        ("serverNode", "DF 28"),
        ("isProduction", "false"),
    ];
    let baggage: Baggage = black_box(members)
        .into_iter()
        .map(|(k, v)| KeyValueMetadata::new(k.to_owned(), v.to_owned(), ""))
        .collect();
    Context::new()
        .with_remote_span_context(span_context)
        .with_baggage(baggage)
}
// ANCHOR_END: floor

// ANCHOR: floor_out
/// The floor: that context, and on the way out, with the formatting left
/// out, the state's header (`TraceState` shows its entries no other way),
/// a walk over the baggage, and three header values.
fn api_floor() -> HeaderMap {
    let cx = floor_context();
    let span = cx.span();
    let tracestate = span.span_context().trace_state().header();
    let walk = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| k.as_str().len() + v.as_str().len());
    black_box(walk.sum::<usize>());
    let mut out = HeaderMap::new();
    for (name, value) in [
        (TRACEPARENT, black_box(TRACEPARENT_VALUE).to_owned()),
        (TRACESTATE, tracestate),
        (BAGGAGE, black_box(BAGGAGE_VALUE).to_owned()),
    ] {
        out.insert(name, HeaderValue::try_from(value).expect("visible ASCII"));
    }
    out
}
// ANCHOR_END: floor_out

/// The SDK's, the book's and the floor, timed in turn (`benches/paired`):
/// the ratios `cargo xtask bench` judges.
fn interleaved() {
    let Some(mut paired) =
        paired::Paired::from_args("ch10_propagation_cost", BUDGET)
    else {
        return;
    };
    let map = level1_request();
    let (book_trace, book_baggage) = book_propagators();
    let (sdk_trace, sdk_baggage) = sdk_propagators();
    paired.compare(
        vec![
            paired::Arm::new("sdk_extract_inject", || {
                sdk(&sdk_trace, &sdk_baggage, &map)
            }),
            paired::Arm::new("book_extract_inject", || {
                book(&book_trace, &book_baggage, &map)
            }),
            paired::Arm::new("api_floor", api_floor),
        ],
        Some("api_floor"),
    );
    paired.record();
}

/// Criterion's measurement time, and the comparison's.
const BUDGET: Duration = Duration::from_secs(4);

mod paired;
mod profile;

criterion_group! {
    name = benches;
    // `-- --profile-time 5` samples each benchmark and records its stacks.
    config = Criterion::default()
        .with_profiler(profile::Folded::default())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(BUDGET)
        .sample_size(30)
        .without_plots();
    targets = propagation
}
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
