//! POST /orders: the span of the request, a child of the caller's span.

use axum::http::HeaderMap;
use opentelemetry::global;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry_http::HeaderExtractor;
use shop::pipeline::{self, Order};

pub async fn place_order(headers: HeaderMap, body: String) -> String {
    // The caller's trace, read from its `traceparent` header.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(&headers))
    });
    let tracer = global::tracer("shop");
    let span = tracer
        .span_builder("POST /orders")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);

    let id = body.trim().parse().unwrap_or(0);
    // The pipeline blocks (threads, channels): run it off the async workers,
    // with the request's Context current there so its spans join the trace.
    let priced = tokio::task::spawn_blocking(move || {
        let _current = cx.attach();
        pipeline::run(vec![Order { id, cents: 1200 }])
    });
    match priced.await {
        Ok(orders) => format!("priced {:?}", orders[0]),
        Err(e) => format!("failed: {e}"),
    }
}
