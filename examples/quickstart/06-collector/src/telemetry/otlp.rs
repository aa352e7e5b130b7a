//! The OTLP exporter, over the transport the standard variables choose.

use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use std::error::Error;

/// OTLP over gRPC or HTTP, as `OTEL_EXPORTER_OTLP_PROTOCOL` says. The
/// builder reads the endpoint and the other `OTEL_EXPORTER_OTLP_*` itself.
pub fn exporter() -> Result<SpanExporter, Box<dyn Error>> {
    let protocol = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL");
    let exporter = match protocol.as_deref() {
        Ok("grpc") => SpanExporter::builder().with_tonic().build()?,
        Ok("http/protobuf") | Err(_) => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()?,
        Ok(other) => return Err(format!("unknown OTLP protocol {other}").into()),
    };
    Ok(exporter)
}
