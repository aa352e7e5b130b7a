//! The shop's order service: POST /orders with an order id as the body.

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry::global;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry_http::HeaderExtractor;
use shop::pipeline::{self, Order};

const ADDR: &str = "127.0.0.1:7878";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop-server")?;
    let listener = match tokio::net::TcpListener::bind(ADDR).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {ADDR}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on http://{ADDR}");
    let app = Router::new().route("/orders", post(place_order));
    axum::serve(listener, app)
        .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap() })
        .await?;

    provider.shutdown()?;
    Ok(())
}

async fn place_order(headers: HeaderMap, body: String) -> String {
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
