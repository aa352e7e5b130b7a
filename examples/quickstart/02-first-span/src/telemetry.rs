//! The OpenTelemetry set-up. Every program of the crate calls `init` once at
//! start and `shutdown` on what it returns before it exits.

use crate::tree_printer::TreePrinter;
use opentelemetry::global;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::error::Error;

/// Returns a `Result` because the exporter of step 6 can fail to build.
pub fn init(service: &'static str) -> Result<SdkTracerProvider, Box<dyn Error>> {
    // Who is reporting: every span carries this resource.
    let resource = Resource::builder().with_service_name(service).build();

    // Where finished spans go: the exporter, fed by a span processor. The
    // simple processor hands over each span as it ends.
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_simple_exporter(TreePrinter::default())
        .build();

    // How a trace crosses a process boundary: W3C `traceparent` headers.
    global::set_text_map_propagator(TraceContextPropagator::new());

    // `global::tracer(..)` now hands out tracers of this provider.
    global::set_tracer_provider(provider.clone());
    Ok(provider)
}
