//! Chapter 10: what reading and forwarding one request's trace context costs,
//! with the book's W3C propagators and with the SDK's.
//!
//! One iteration extracts `traceparent`, `tracestate` (3 entries) and `baggage`
//! (3 members) from a header map and injects the result into a fresh one, as a
//! service forwarding the request does. A third case has a Level 2 key in
//! the `tracestate` that `TraceState` cannot hold, so the book's propagator
//! also keeps the whole list in the `Context`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use otlp_csp::telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, W3cBaggage, W3cTraceContext,
};

fn request(tracestate: &'static str) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in [
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        ("tracestate", tracestate),
        (
            "baggage",
            "userId=alice,serverNode=DF%2028,isProduction=false",
        ),
    ] {
        map.append(name, HeaderValue::from_static(value));
    }
    map
}

fn propagation(c: &mut Criterion) {
    let map = request("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:8");
    let level2 = request("rojo=00f067aa0ba902b7,tenant@vendorname12345=x,ot=th:8");
    let mut group = c.benchmark_group("ch10_propagation_cost");

    let (trace, baggage) = (W3cTraceContext::new(), W3cBaggage::new());
    for (name, map) in [
        ("book_extract_inject", &map),
        ("book_extract_inject_level2_key", &level2),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let carrier = HeaderCarrier(black_box(map));
                let cx = baggage.extract_with_context(
                    &trace.extract_with_context(&Context::new(), &carrier),
                    &carrier,
                );
                let mut out = HeaderMap::new();
                trace.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
                baggage.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
                out
            })
        });
    }

    let (trace, baggage) = (TraceContextPropagator::new(), BaggagePropagator::new());
    group.bench_function("sdk_extract_inject", |b| {
        b.iter(|| {
            let carrier = HeaderExtractor(black_box(&map));
            let cx = baggage.extract_with_context(
                &trace.extract_with_context(&Context::new(), &carrier),
                &carrier,
            );
            let mut out = HeaderMap::new();
            trace.inject_context(&cx, &mut HeaderInjector(&mut out));
            baggage.inject_context(&cx, &mut HeaderInjector(&mut out));
            out
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30)
        .without_plots();
    targets = propagation
}
criterion_main!(benches);
