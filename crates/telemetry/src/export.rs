//! Where the signals go: the console exporters, or OTLP over gRPC,
//! HTTP/protobuf or HTTP/JSON (gzip when asked), each wrapped to count what
//! it exports; spans over OTLP go through the book's batch processor
//! (chapter 12), and as protobuf through the book's exporter
//! (`span_export`), which writes the bytes straight from the spans. [`with_otlp_export`] adds the same span export to a
//! provider a program builds itself.

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::logs::LoggerProviderBuilder;
use opentelemetry_sdk::trace::{
    SimpleSpanProcessor, SpanExporter, TracerProviderBuilder,
};

use crate::fast_batch::Returned;
use crate::otlp_http::OtlpOnlyClient;
use crate::span_export::OtlpSpanExporter;
use crate::{
    BatchSettings, ConsoleExporter, ConsoleLogExporter, ConsoleMetricExporter,
    CountingExporter, CountingLogExporter, Export, FastBatchConfig,
    FastBatchCounters, FastBatchProcessor, Protocol, SpanCounters, TelemetryConfig,
    TelemetryError,
};

/// Adds to `builder` the OTLP span export [`init`](crate::init) would set up, when the
/// `OTEL_*` variables ask for OTLP (`OTEL_EXPORTER_OTLP_ENDPOINT` set and
/// `OTEL_TRACES_EXPORTER` not `none` or `console`), with the resource naming
/// `service_name`; otherwise returns `builder` as it was. See
/// [`with_otlp_export`].
pub fn with_otlp_from_env(
    builder: TracerProviderBuilder,
    service_name: &str,
) -> Result<(TracerProviderBuilder, SpanCounters), TelemetryError> {
    with_otlp_export(builder, &TelemetryConfig::from_env(service_name)?)
}

/// Adds to `builder` the span export of `config` when it is OTLP, and the
/// resource naming `config.service_name`; otherwise returns `builder` as it
/// was.
///
/// This is for a program that builds its own provider, say to check its
/// spans in memory, and should still send them to a collector when asked.
/// The returned counters count what the export was offered, sent and lost;
/// shut the provider down (or drop it) to flush.
pub fn with_otlp_export(
    builder: TracerProviderBuilder,
    config: &TelemetryConfig,
) -> Result<(TracerProviderBuilder, SpanCounters), TelemetryError> {
    let counters = SpanCounters::default();
    if !matches!(config.traces, Export::Otlp { .. }) {
        return Ok((builder, counters));
    }
    let resource = crate::resource::resource(&config.service_name);
    let (builder, _) = with_span_exporter(
        builder.with_resource(resource),
        &config.traces,
        &config.batch,
        &counters,
    )?;
    Ok((builder, counters))
}

fn counted<E>(e: E, counters: &SpanCounters) -> CountingExporter<E> {
    CountingExporter::new(e, counters.clone())
}

fn wire(protocol: Protocol) -> opentelemetry_otlp::Protocol {
    match protocol {
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        _ => opentelemetry_otlp::Protocol::HttpBinary,
    }
}

// The three OTLP exporter builders share no trait for "build me over this
// transport", so one macro spells the choice out once for all signals.
macro_rules! otlp_exporter {
    ($builder:expr, $signal:expr, $counters:expr, $protocol:expr, $endpoint:expr, $gzip:expr) => {{
        let compression = $gzip.then_some(opentelemetry_otlp::Compression::Gzip);
        match $protocol {
            Protocol::Grpc => {
                needs_runtime()?;
                let mut b = $builder.with_tonic().with_endpoint($endpoint.clone());
                if let Some(c) = compression {
                    b = b.with_compression(c);
                }
                b.build()
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let mut b = $builder
                    .with_http()
                    .with_http_client(OtlpOnlyClient::for_signal(
                        $signal, $counters,
                    )?)
                    .with_protocol(wire(*$protocol))
                    .with_endpoint($endpoint.clone())
                    .with_headers(Default::default());
                if let Some(c) = compression {
                    b = b.with_compression(c);
                }
                b.build()
            }
        }
        .map_err(|e| TelemetryError::Exporter(e.to_string()))
    }};
}

/// Adds the exporting processor. Over OTLP that is the book's batch
/// processor (chapter 12): one processor that queues without blocking,
/// counts every span it is offered and every drop, so the set-up needs no
/// second processor to count (the SDK copies each span once per processor).
pub(crate) fn with_span_exporter(
    builder: TracerProviderBuilder,
    export: &Export,
    batch: &BatchSettings,
    counters: &SpanCounters,
) -> Result<(TracerProviderBuilder, Option<FastBatchCounters>), TelemetryError> {
    Ok(match export {
        // Simple (synchronous) export keeps console lines in the order spans end.
        Export::Console => (
            builder.with_span_processor(SimpleSpanProcessor::new(counted(
                ConsoleExporter::stdout(),
                counters,
            ))),
            None,
        ),
        Export::None => (builder, None),
        Export::Otlp {
            protocol,
            endpoint,
            gzip,
        } => {
            let returned = Returned::default();
            let processor = match protocol {
                Protocol::Grpc => {
                    let exporter = OtlpSpanExporter::grpc(
                        endpoint, *gzip, counters, &returned,
                    )?;
                    batch_processor(exporter, batch, counters, Some(returned))?
                }
                Protocol::HttpProtobuf => {
                    let exporter = OtlpSpanExporter::http(
                        endpoint, *gzip, counters, &returned,
                    )?;
                    batch_processor(exporter, batch, counters, Some(returned))?
                }
                // JSON is for reading by eye, not for speed: opentelemetry-otlp's.
                Protocol::HttpJson => {
                    let exporter = otlp_exporter!(
                        opentelemetry_otlp::SpanExporter::builder(),
                        "TRACES",
                        Some(counters),
                        protocol,
                        endpoint,
                        *gzip
                    )?;
                    batch_processor(exporter, batch, counters, None)?
                }
            };
            let queue = processor.counters();
            let offered = queue.clone();
            counters.set_ended_source(move || offered.snapshot().offered);
            (builder.with_span_processor(processor), Some(queue))
        }
    })
}

/// The book's batch processor over `exporter`, counting what it exports;
/// with `returned`, the exporter hands each batch's vector back.
fn batch_processor<E: SpanExporter + 'static>(
    exporter: E,
    batch: &BatchSettings,
    counters: &SpanCounters,
    returned: Option<Returned>,
) -> Result<FastBatchProcessor, TelemetryError> {
    let mut builder = FastBatchProcessor::builder(counted(exporter, counters))
        .with_config(FastBatchConfig {
            queue_size: batch.queue_size,
            max_batch_size: batch.max_batch_size,
            max_delay: batch.max_delay,
        });
    if let Some(returned) = returned {
        builder = builder.with_returned_batches(returned);
    }
    builder
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))
}

/// tonic spawns its connection task on the current runtime and panics
/// without one; say so as an error instead.
fn needs_runtime() -> Result<(), TelemetryError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::Exporter(
            "OTLP/gRPC needs a tokio runtime: call init inside one \
             (e.g. from a #[tokio::main] function)"
                .into(),
        ));
    }
    Ok(())
}

pub(crate) fn with_log_exporter(
    builder: LoggerProviderBuilder,
    export: &Export,
    counters: &SpanCounters,
) -> Result<LoggerProviderBuilder, TelemetryError> {
    Ok(match export {
        Export::Console => builder.with_simple_exporter(CountingLogExporter::new(
            ConsoleLogExporter::stdout(),
            counters.clone(),
        )),
        Export::None => builder,
        Export::Otlp {
            protocol,
            endpoint,
            gzip,
        } => {
            let exporter = otlp_exporter!(
                opentelemetry_otlp::LogExporter::builder(),
                "LOGS",
                Some(counters),
                protocol,
                endpoint,
                *gzip
            )?;
            builder.with_batch_exporter(CountingLogExporter::new(
                exporter,
                counters.clone(),
            ))
        }
    })
}

pub(crate) enum MetricSink {
    Console(ConsoleMetricExporter),
    // Boxed: the OTLP exporter is large and the console one is not.
    Otlp(Box<opentelemetry_otlp::MetricExporter>),
}

pub(crate) fn metric_exporter(
    export: &Export,
) -> Result<Option<MetricSink>, TelemetryError> {
    Ok(match export {
        Export::Console => {
            Some(MetricSink::Console(ConsoleMetricExporter::stdout()))
        }
        Export::None => None,
        Export::Otlp {
            protocol,
            endpoint,
            gzip,
        } => Some(MetricSink::Otlp(Box::new(otlp_exporter!(
            opentelemetry_otlp::MetricExporter::builder(),
            "METRICS",
            None,
            protocol,
            endpoint,
            *gzip
        )?))),
    })
}
