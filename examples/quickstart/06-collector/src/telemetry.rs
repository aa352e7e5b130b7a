//! The OpenTelemetry set-up. Every program of the crate calls `init` once at
//! start and `shutdown` on what it returns before it exits.

mod otlp;

use crate::tree_printer::TreePrinter;
use opentelemetry::global;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::error::Error;

/// Returns a `Result` because the OTLP exporter can fail to build.
pub fn init(service: &'static str) -> Result<SdkTracerProvider, Box<dyn Error>> {
    // Who is reporting: every span carries this resource.
    let resource = Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);

    // With a collector's address set, export over OTLP in batches from a
    // background thread; without one, print trees to the terminal.
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(_) => builder.with_batch_exporter(otlp::exporter()?).build(),
        Err(_) => builder.with_simple_exporter(TreePrinter::default()).build(),
    };

    // How a trace crosses a process boundary: W3C `traceparent` headers.
    global::set_text_map_propagator(TraceContextPropagator::new());

    // `global::tracer(..)` now hands out tracers of this provider.
    global::set_tracer_provider(provider.clone());
    Ok(provider)
}
