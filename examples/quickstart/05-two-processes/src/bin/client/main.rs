//! Sends one order to the server, inside a span whose context goes along.

mod request;

use opentelemetry::trace::{FutureExt, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, global};
use request::place_order;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop-client")?;
    let tracer = global::tracer("shop");
    let span = tracer
        .span_builder("place_order")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    let cx = Context::current_with_span(span);

    let result = place_order(&cx).with_context(cx.clone()).await;
    if let Err(e) = &result {
        cx.span().set_status(Status::error(e.to_string()));
    }
    drop(cx); // ends `place_order`

    // Shut down even if the request failed: its span still gets out.
    provider.shutdown()?;
    if let Err(e) = result {
        eprintln!("error: could not place the order: {e}");
        std::process::exit(1);
    }
    Ok(())
}
