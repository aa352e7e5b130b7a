//! The set-up itself: [`init`] and its variants build the three providers
//! from a [`TelemetryConfig`], install them globally with the W3C
//! propagator and the `tracing` → logs bridge, and return the
//! [`Telemetry`] handle that counts what they export and shuts them down.

use opentelemetry::global;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use crate::export::{
    MetricSink, metric_exporter, with_log_exporter, with_span_exporter,
};
use crate::{
    ConfigError, CountEmitted, CountEnded, CountingMetricExporter, Export,
    SamplerChoice, SpanCounters, SpanStats, TelemetryConfig, propagation,
    self_metrics,
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
    /// The `tracing` → logs bridge could not be installed.
    #[error("cannot install the tracing log bridge: {0}")]
    LogBridge(String),
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

/// Keeps the three providers alive; shut it down to flush everything.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    counters: SpanCounters,
    log_counters: SpanCounters,
    metric_exports: SpanCounters,
    _self_metrics: Option<self_metrics::SelfMetrics>,
    config: TelemetryConfig,
}

/// Reads the `OTEL_*` variables and installs global tracer and meter
/// providers, the W3C Trace Context propagator and (unless turned off) a
/// `tracing` subscriber that turns events into log records. `service_name`
/// is used unless `OTEL_SERVICE_NAME` overrides it.
///
/// With `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` this must be called inside a tokio
/// runtime (the gRPC client needs its reactor).
pub fn init(service_name: &str) -> Result<Telemetry, TelemetryError> {
    let config = TelemetryConfig::from_env(service_name)?;
    init_with(config)
}

/// Like [`init`], with an explicit configuration.
pub fn init_with(config: TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    init_with_views(config, Vec::new())
}

/// A metrics view: given an instrument, the stream to produce for it (a new
/// name, other histogram buckets, fewer attributes), or `None` to leave it
/// to the other views and the default.
pub type View = std::sync::Arc<
    dyn Fn(
            &opentelemetry_sdk::metrics::Instrument,
        ) -> Option<opentelemetry_sdk::metrics::Stream>
        + Send
        + Sync,
>;

/// Like [`init_with`], with metrics views: the way to change how an
/// instrument you do not own (one in a library) is aggregated.
pub fn init_with_views(
    config: TelemetryConfig,
    views: Vec<View>,
) -> Result<Telemetry, TelemetryError> {
    let resource = crate::resource::resource(&config.service_name);

    // With an exporter of `none` nothing is meant to leave the process, so
    // nothing is counted as handed to the pipeline (or as lost).
    let counters = SpanCounters::default();
    // The SDK's random ids, from a generator that lets `context_with_span`
    // tell a trace it began, so its `traceparent` says the id is random.
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_id_generator(propagation::RandomIds::default())
        .with_sampler(sampler(&config.sampler));
    if config.traces == Export::Console {
        // Registered first, so a span is counted as ended before any exporter
        // sees it. (Over OTLP the batch processor counts what it is offered.)
        builder = builder.with_span_processor(CountEnded(counters.clone()));
    }
    let (builder, queue) =
        with_span_exporter(builder, &config.traces, &config.batch, &counters)?;
    let provider = builder.build();

    let log_counters = SpanCounters::default();
    let mut builder = SdkLoggerProvider::builder().with_resource(resource.clone());
    if config.logs != Export::None {
        builder = builder.with_log_processor(CountEmitted(log_counters.clone()));
    }
    let logger_provider =
        with_log_exporter(builder, &config.logs, &log_counters)?.build();

    let metric_exports = SpanCounters::default();
    let mut meter_builder = SdkMeterProvider::builder().with_resource(resource);
    for view in views {
        meter_builder = meter_builder.with_view(
            move |instrument: &opentelemetry_sdk::metrics::Instrument| {
                view(instrument)
            },
        );
    }
    fn reader<E: opentelemetry_sdk::metrics::exporter::PushMetricExporter>(
        exporter: E,
        counters: &SpanCounters,
        interval: std::time::Duration,
    ) -> PeriodicReader<CountingMetricExporter<E>> {
        PeriodicReader::builder(CountingMetricExporter::new(
            exporter,
            counters.clone(),
        ))
        .with_interval(interval)
        .build()
    }
    let interval = config.metric_interval;
    meter_builder = match metric_exporter(&config.metrics)? {
        Some(MetricSink::Console(e)) => {
            meter_builder.with_reader(reader(e, &metric_exports, interval))
        }
        Some(MetricSink::Otlp(e)) => {
            meter_builder.with_reader(reader(*e, &metric_exports, interval))
        }
        None => meter_builder,
    };
    let meter_provider = meter_builder.build();
    // The pipeline's own counts travel with the metrics when they go to a
    // collector; on the console they would only add noise to every example.
    let self_metrics = matches!(config.metrics, Export::Otlp { .. }).then(|| {
        use opentelemetry::metrics::MeterProvider as _;
        self_metrics::register(
            &meter_provider.meter("otlp-csp-telemetry"),
            counters.clone(),
            log_counters.clone(),
            queue.clone(),
        )
    });

    if config.log_bridge {
        use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
        let bridge = OpenTelemetryTracingBridge::new(&logger_provider)
            .with_filter(log_filter());
        let subscriber = tracing_subscriber::registry().with(bridge);
        tracing::subscriber::set_global_default(subscriber).map_err(|e| {
            TelemetryError::LogBridge(format!(
                "{e}; set `log_bridge: false` in the TelemetryConfig and add \
                 `Telemetry::log_layer()` to your own subscriber"
            ))
        })?;
    }

    global::set_tracer_provider(provider.clone());
    global::set_meter_provider(meter_provider.clone());
    global::set_text_map_propagator(propagation::w3c_propagator());
    Ok(Telemetry {
        provider,
        meter_provider,
        logger_provider,
        counters,
        log_counters,
        metric_exports,
        _self_metrics: self_metrics,
        config,
    })
}

/// The layer of [`Telemetry::tracing_layer`] over any tracer, for a program
/// (or a benchmark) that builds its provider itself.
pub fn tracing_layer_for<S>(
    tracer: opentelemetry_sdk::trace::SdkTracer,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
where
    S: tracing::Subscriber
        + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
}

/// Which `tracing` events become log records: INFO and above, except from
/// the crates that carry the telemetry itself. Their events would be
/// exported over the same HTTP/gRPC clients, which log again: a feedback loop
/// that floods the queue (seen here: 60 records for one failed export).
pub fn log_filter() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    Targets::new().with_default(LevelFilter::INFO).with_targets(
        [
            "opentelemetry",
            "opentelemetry_sdk",
            "opentelemetry_otlp",
            "hyper",
            "hyper_util",
            "h2",
            "tonic",
            "tower",
            "reqwest",
        ]
        .map(|target| (target, LevelFilter::OFF)),
    )
}

fn sampler(choice: &SamplerChoice) -> Sampler {
    match *choice {
        SamplerChoice::AlwaysOn => Sampler::AlwaysOn,
        SamplerChoice::AlwaysOff => Sampler::AlwaysOff,
        SamplerChoice::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
        SamplerChoice::ParentBasedAlwaysOn => {
            Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
        }
        SamplerChoice::ParentBasedAlwaysOff => {
            Sampler::ParentBased(Box::new(Sampler::AlwaysOff))
        }
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

    /// The tracer provider, for code that wants a tracer without going through `global`.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The meter provider (also installed as the global one).
    pub fn meter_provider(&self) -> &SdkMeterProvider {
        &self.meter_provider
    }

    /// The logger provider that `tracing` events are bridged into.
    pub fn logger_provider(&self) -> &SdkLoggerProvider {
        &self.logger_provider
    }

    /// A `tracing_subscriber` layer that turns `tracing` events into log
    /// records of this pipeline, for an application that builds its own
    /// subscriber (with `log_bridge: false` in the configuration). Add
    /// [`log_filter`] to it (`.with_filter(log_filter())`) unless you filter
    /// out the exporters' own events another way.
    pub fn log_layer(
        &self,
    ) -> OpenTelemetryTracingBridge<
        SdkLoggerProvider,
        opentelemetry_sdk::logs::SdkLogger,
    > {
        OpenTelemetryTracingBridge::new(&self.logger_provider)
    }

    /// A `tracing_subscriber` layer that turns `tracing` spans into spans of
    /// this pipeline (`tracing-opentelemetry`), for an application that
    /// builds its own subscriber: a `#[tracing::instrument]` function, or a
    /// `tracing::info_span!` entered, becomes an OpenTelemetry span with the
    /// current `tracing` span (or, outside any, the current OpenTelemetry
    /// context) as its parent, counted and exported like any other.
    ///
    /// Unlike `tracing_opentelemetry::layer()`'s defaults, it adds no source
    /// location, thread or busy/idle-time attributes to each span: they cost
    /// time on every span and differ between runs. Chain `.with_location(true)`
    /// (and so on) on the returned layer to have them back.
    pub fn tracing_layer<S>(
        &self,
    ) -> tracing_opentelemetry::OpenTelemetryLayer<
        S,
        opentelemetry_sdk::trace::SdkTracer,
    >
    where
        S: tracing::Subscriber
            + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        use opentelemetry::trace::TracerProvider as _;
        tracing_layer_for(self.provider.tracer("tracing"))
    }

    /// The span counters now (drops are final only after shutdown).
    pub fn stats(&self) -> SpanStats {
        self.counters.snapshot()
    }

    /// A handle on the span counters that outlives the set-up, to read the
    /// final counts after a shutdown that reported losses.
    pub fn span_counters(&self) -> SpanCounters {
        self.counters.clone()
    }

    /// The log record counters now, in the same terms as [`Telemetry::stats`]
    /// (`ended` counts records emitted).
    pub fn log_stats(&self) -> SpanStats {
        self.log_counters.snapshot()
    }

    /// A handle on the log record counters that outlives the set-up, as
    /// [`Telemetry::span_counters`] is for spans.
    pub fn log_counters(&self) -> SpanCounters {
        self.log_counters.clone()
    }

    /// Metric exports so far: `ended` attempts, `exported` and `failed` outcomes.
    pub fn metric_export_stats(&self) -> SpanStats {
        self.metric_exports.snapshot()
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
            .map_err(|e| {
                TelemetryError::Shutdown(format!("shutdown task failed: {e}"))
            })?
    }

    /// Flushes and shuts down from synchronous code (not from inside an async task).
    /// Returns the final span counters; a lost span or log record, or a failed
    /// shutdown of any signal, is an error that says what was lost.
    pub fn shutdown_blocking(self) -> Result<SpanStats, TelemetryError> {
        // Spans first: their export may log, and logs first would lose that.
        // Metrics last, so the pipeline's own counts are final when exported.
        let traces = self.provider.shutdown();
        let logs = self.logger_provider.shutdown();
        let metrics = self.meter_provider.shutdown();
        let stats = self.counters.snapshot();
        let log_stats = self.log_counters.snapshot();
        let exports = self.metric_exports.snapshot();
        let mut problems = Vec::new();
        for (what, s) in [("spans", &stats), ("log records", &log_stats)] {
            if s.failed > 0 || s.dropped > 0 || s.rejected > 0 {
                let rejected = match s.rejected {
                    0 => String::new(),
                    n => format!(", {n} rejected by the collector"),
                };
                problems.push(format!(
                    "{} of {} {what} not exported ({} failed, {} dropped{rejected}); \
                     last error: {}",
                    s.failed + s.dropped + s.rejected,
                    s.ended,
                    s.failed,
                    s.dropped,
                    s.last_error.as_deref().unwrap_or("none")
                ));
            }
        }
        if exports.failed > 0 {
            problems.push(format!(
                "{} of {} metric exports failed; last error: {}",
                exports.failed,
                exports.ended,
                exports.last_error.as_deref().unwrap_or("none")
            ));
        }
        // A failed export also fails the provider's shutdown; report that only
        // when no counted loss above already says why.
        if problems.is_empty() {
            for (signal, result) in
                [("traces", traces), ("logs", logs), ("metrics", metrics)]
            {
                if let Err(e) = result {
                    problems.push(format!("{signal}: {e}"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(TelemetryError::Shutdown(problems.join("; ")));
        }
        Ok(stats)
    }
}
