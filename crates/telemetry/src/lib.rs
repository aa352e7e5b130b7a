//! The one place the book sets up OpenTelemetry.
//!
//! An application calls [`init`] once at start and keeps the returned
//! [`Telemetry`]; a library only uses the `opentelemetry` API
//! (`opentelemetry::global::tracer(..)`) and never configures anything.
//!
//! What `init` does is decided by the standard `OTEL_*` environment variables
//! (see [`TelemetryConfig`]): with none set, finished spans, metric points and
//! log records are printed to stdout one line each; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set they are sent over OTLP to a collector.
//! Every span and log record is counted until it is exported, fails to
//! export, or is dropped (see [`SpanStats`]), and when metrics go over OTLP
//! those counts go with them as metrics (`otlp_csp.telemetry.*`).
//!
//! Logs come from the `tracing` crate: `init` installs a subscriber that turns
//! each `tracing` event into an OpenTelemetry log record carrying the ids of
//! the span current in the OpenTelemetry context.
//!
//! # Layout
//!
//! - `setup`: [`init`] and its variants, and the [`Telemetry`] handle with
//!   its counts and its shutdown.
//! - `export`: the console and OTLP exporters for the three signals, and
//!   [`with_otlp_export`] for a provider a program builds itself.
//! - `config`: [`TelemetryConfig`], read from the `OTEL_*` variables.
//! - `console`, `console_signals`: the one-line console exporters.
//! - `counting*`, `self_metrics`: what was ended, exported, failed and
//!   dropped, and those counts as metrics.
//! - `fast_batch`, `gated`, `processors`: the book's batch processor and
//!   span processors; [`sampling`]: its samplers; [`propagation`]: the W3C
//!   propagators.
//! - `config_fuzzing`, `propagation::fuzzing` (feature `fuzzing`): the checks
//!   the fuzz targets run.

mod config;
#[cfg(feature = "fuzzing")]
pub mod config_fuzzing;
mod console;
mod console_signals;
mod counting;
mod counting_logs;
mod counting_metrics;
mod export;
mod fast_batch;
mod gated;
mod otlp_http;
mod processors;
pub mod propagation;
pub mod resource;
mod retry;
pub mod sampling;
mod self_metrics;
mod setup;
mod span_export;
pub mod span_wire;

pub use config::{
    BatchSettings, ConfigError, Export, Protocol, SamplerChoice, Signal,
    TelemetryConfig, TraceExport,
};
pub use console::{ConsoleExporter, format_span};
pub use console_signals::{
    ConsoleLogExporter, ConsoleMetricExporter, format_log, format_metric,
};
pub use counting::{CountEnded, CountingExporter, SpanCounters, SpanStats};
pub use counting_logs::{CountEmitted, CountingLogExporter};
pub use counting_metrics::CountingMetricExporter;
pub use export::{with_otlp_export, with_otlp_from_env};
/// [`FastBatchProcessor`] with a deliberate bug (feature `mutants`).
#[cfg(feature = "mutants")]
pub use fast_batch::mutants as fast_batch_mutants;
pub use fast_batch::{
    FastBatchBuilder, FastBatchConfig, FastBatchCounters, FastBatchError,
    FastBatchProcessor, FastBatchStats,
};
pub use gated::GatedExporter;
pub use processors::{BaggageToAttributes, Counter, Filter, REDACTED, Redact, Tee};
pub use setup::{
    Telemetry, TelemetryError, View, init, init_with, init_with_views, log_filter,
    tracing_layer_for,
};
