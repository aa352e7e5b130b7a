use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::{KeyValue, global};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop")?;
    let tracer = global::tracer("shop");

    // `in_span` starts a span, makes it current while the closure runs,
    // and ends it when the closure returns.
    tracer.in_span("checkout", |cx| {
        cx.span().set_attribute(KeyValue::new("order.id", 1));
        // Started while `checkout` is current, so it becomes its child.
        tracer.in_span("charge_card", |_cx| {
            // ... the work itself ...
        });
    });

    // Flushes what is left and shuts the exporter down (which prints).
    provider.shutdown()?;
    Ok(())
}
