//! The one place the book sets up OpenTelemetry.
//!
//! An application calls [`init`] once at start and keeps the returned
//! [`Telemetry`]; a library only uses the `opentelemetry` API
//! (`opentelemetry::global::tracer(..)`) and never configures anything.
//!
//! What `init` does is decided by the standard `OTEL_*` environment variables
//! (see [`TelemetryConfig`]): with none set, finished spans are printed to
//! stdout one line each; with `OTEL_EXPORTER_OTLP_ENDPOINT` set they are sent
//! over OTLP to a collector. Every span that ends is counted until it is
//! exported, fails to export, or is dropped (see [`SpanStats`]).

mod config;
mod console;
mod counting;

pub use config::{ConfigError, Protocol, SamplerChoice, TelemetryConfig, TraceExport};
pub use console::{ConsoleExporter, format_span};
pub use counting::{CountEnded, CountingExporter, SpanCounters, SpanStats};

use opentelemetry::global;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor, TracerProviderBuilder,
};

/// Why [`init`] or [`Telemetry::shutdown`] failed.
#[derive(thiserror::Error)]
pub enum TelemetryError {
    /// An `OTEL_*` variable has a value that cannot be used.
    #[error("bad telemetry configuration: {0}")]
    Config(#[from] ConfigError),
    /// The OTLP exporter could not be built (e.g. gRPC outside a tokio runtime).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// Flushing or shutting down the pipeline failed.
    #[error("telemetry shutdown failed: {0}")]
    Shutdown(String),
}

// `main` returning `Result` prints the error with `Debug`; print the sentence
// a reader can act on instead of the enum's structure.
impl std::fmt::Debug for TelemetryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Keeps the tracer provider alive; shut it down to flush every span.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    counters: SpanCounters,
    config: TelemetryConfig,
}

/// Reads the `OTEL_*` variables and installs a global tracer provider and the
/// W3C Trace Context propagator. `service_name` is used unless
/// `OTEL_SERVICE_NAME` overrides it.
///
/// With `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` this must be called inside a tokio
/// runtime (the gRPC client needs its reactor).
pub fn init(service_name: &str) -> Result<Telemetry, TelemetryError> {
    let config = TelemetryConfig::from_env(service_name)?;
    init_with(config)
}

/// Like [`init`], with an explicit configuration.
pub fn init_with(config: TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    let counters = SpanCounters::default();
    let builder = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .with_sampler(sampler(&config.sampler))
        // Registered first, so a span is counted as ended before any exporter sees it.
        .with_span_processor(CountEnded(counters.clone()));
    let provider = with_exporter(builder, &config.traces, &counters)?.build();
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(Telemetry {
        provider,
        counters,
        config,
    })
}

fn with_exporter(
    builder: TracerProviderBuilder,
    export: &TraceExport,
    counters: &SpanCounters,
) -> Result<TracerProviderBuilder, TelemetryError> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig as _};
    fn counted<E>(e: E, counters: &SpanCounters) -> CountingExporter<E> {
        CountingExporter::new(e, counters.clone())
    }
    Ok(match export {
        // Simple (synchronous) export keeps console lines in the order spans end.
        TraceExport::Console => builder.with_span_processor(SimpleSpanProcessor::new(counted(
            ConsoleExporter::stdout(),
            counters,
        ))),
        TraceExport::None => builder,
        TraceExport::Otlp { protocol, endpoint } => {
            let exporter = match protocol {
                Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .build(),
                Protocol::HttpProtobuf | Protocol::HttpJson => {
                    let wire = if *protocol == Protocol::HttpJson {
                        opentelemetry_otlp::Protocol::HttpJson
                    } else {
                        opentelemetry_otlp::Protocol::HttpBinary
                    };
                    opentelemetry_otlp::SpanExporter::builder()
                        .with_http()
                        .with_protocol(wire)
                        .with_endpoint(endpoint)
                        .with_headers(Default::default())
                        .build()
                }
            }
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            builder.with_span_processor(
                BatchSpanProcessor::builder(counted(exporter, counters)).build(),
            )
        }
    })
}

fn sampler(choice: &SamplerChoice) -> Sampler {
    match *choice {
        SamplerChoice::AlwaysOn => Sampler::AlwaysOn,
        SamplerChoice::AlwaysOff => Sampler::AlwaysOff,
        SamplerChoice::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
        SamplerChoice::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerChoice::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerChoice::ParentBasedTraceIdRatio(r) => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
        }
    }
}

impl Telemetry {
    /// The configuration that was applied.
    pub fn config(&self) -> &TelemetryConfig {
        &self.config
    }

    /// The provider, for code that wants a tracer without going through `global`.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The span counters now (drops are final only after shutdown).
    pub fn stats(&self) -> SpanStats {
        self.counters.snapshot()
    }

    /// Flushes and shuts down, from async code on any tokio runtime flavour.
    ///
    /// The SDK's shutdown blocks the calling thread until the exporter is done.
    /// On a current-thread runtime, blocking the runtime's only thread would
    /// stop the very I/O the gRPC exporter waits for, so the blocking part runs
    /// on tokio's blocking pool while this task yields.
    pub async fn shutdown(self) -> Result<SpanStats, TelemetryError> {
        tokio::task::spawn_blocking(move || self.shutdown_blocking())
            .await
            .map_err(|e| TelemetryError::Shutdown(format!("shutdown task failed: {e}")))?
    }

    /// Flushes and shuts down from synchronous code (not from inside an async task).
    /// Returns the final counters; an export failure is an error that carries them.
    pub fn shutdown_blocking(self) -> Result<SpanStats, TelemetryError> {
        let result = self.provider.shutdown();
        let stats = self.counters.snapshot();
        result.map_err(|e| TelemetryError::Shutdown(e.to_string()))?;
        if stats.failed > 0 || stats.dropped > 0 {
            return Err(TelemetryError::Shutdown(format!(
                "{} of {} spans not exported ({} failed, {} dropped); last error: {}",
                stats.failed + stats.dropped,
                stats.ended,
                stats.failed,
                stats.dropped,
                stats.last_error.as_deref().unwrap_or("none")
            )));
        }
        Ok(stats)
    }
}
