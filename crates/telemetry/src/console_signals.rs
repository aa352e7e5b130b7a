//! Console exporters for metrics and logs, in the same one-line style as
//! spans: `metric NAME ...` per data point, `log SEVERITY ...` per record.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::logs::AnyValue;
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, Metric, MetricData, ResourceMetrics,
};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use crate::console::Sink;

/// Prints one line per metric data point each time metrics are collected
/// (every export interval, and once at shutdown).
#[derive(Clone)]
pub struct ConsoleMetricExporter {
    sink: Sink,
}

/// Prints one line per log record.
#[derive(Clone)]
pub struct ConsoleLogExporter {
    sink: Sink,
}

impl std::fmt::Debug for ConsoleMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleMetricExporter")
    }
}

impl std::fmt::Debug for ConsoleLogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleLogExporter")
    }
}

impl ConsoleMetricExporter {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        Self { sink: Sink::Stdout }
    }
    /// Writes into `buffer`, for tests.
    pub fn to_buffer(buffer: Arc<Mutex<Vec<u8>>>) -> Self {
        Self {
            sink: Sink::Buffer(buffer),
        }
    }
}

impl ConsoleLogExporter {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        Self { sink: Sink::Stdout }
    }
    /// Writes into `buffer`, for tests.
    pub fn to_buffer(buffer: Arc<Mutex<Vec<u8>>>) -> Self {
        Self {
            sink: Sink::Buffer(buffer),
        }
    }
}

/// The lines printed for one metric: one per data point, attributes sorted
/// so that the output does not depend on hash order.
pub fn format_metric(metric: &Metric) -> Vec<String> {
    let unit = if metric.unit().is_empty() {
        String::new()
    } else {
        format!(" unit={}", metric.unit())
    };
    match metric.data() {
        AggregatedMetrics::F64(data) => points(metric.name(), &unit, data),
        AggregatedMetrics::U64(data) => points(metric.name(), &unit, data),
        AggregatedMetrics::I64(data) => points(metric.name(), &unit, data),
    }
}

fn attributes<'a>(kvs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> String {
    let mut pairs: Vec<String> =
        kvs.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
    pairs.sort();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn points<T: std::fmt::Display + Copy>(
    name: &str,
    unit: &str,
    data: &MetricData<T>,
) -> Vec<String> {
    let mut lines = Vec::new();
    match data {
        MetricData::Sum(sum) => {
            let kind = if sum.is_monotonic() {
                "counter"
            } else {
                "updown"
            };
            for p in sum.data_points() {
                lines.push(format!(
                    "metric {name}{} {kind}={}{unit}",
                    attributes(p.attributes()),
                    p.value()
                ));
            }
        }
        MetricData::Gauge(gauge) => {
            for p in gauge.data_points() {
                lines.push(format!(
                    "metric {name}{} gauge={}{unit}",
                    attributes(p.attributes()),
                    p.value()
                ));
            }
        }
        MetricData::Histogram(histogram) => {
            for p in histogram.data_points() {
                let mut line = format!(
                    "metric {name}{} histogram count={} sum={}",
                    attributes(p.attributes()),
                    p.count(),
                    p.sum()
                );
                // Only the buckets that hold something, as `le=BOUND:COUNT`.
                let bounds: Vec<f64> = p.bounds().collect();
                for (i, count) in p.bucket_counts().enumerate() {
                    if count > 0 {
                        match bounds.get(i) {
                            Some(bound) => {
                                let _ = write!(line, " le{bound}:{count}");
                            }
                            None => {
                                let _ = write!(line, " le+Inf:{count}");
                            }
                        }
                    }
                }
                line.push_str(unit);
                lines.push(line);
            }
        }
        MetricData::ExponentialHistogram(histogram) => {
            for p in histogram.data_points() {
                lines.push(format!(
                    "metric {name}{} exponential_histogram count={} sum={} scale={}{unit}",
                    attributes(p.attributes()),
                    p.count(),
                    p.sum(),
                    p.scale()
                ));
            }
        }
    }
    lines
}

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        // The SDK keeps instruments and attribute sets in hash maps; sort so
        // that the same data always prints the same lines.
        let mut metrics_by_name: Vec<(&str, Vec<String>)> = metrics
            .scope_metrics()
            .flat_map(|scope| scope.metrics())
            .map(|metric| {
                let mut lines = format_metric(metric);
                lines.sort();
                (metric.name(), lines)
            })
            .collect();
        metrics_by_name.sort();
        let mut text = String::new();
        for line in metrics_by_name.into_iter().flat_map(|(_, lines)| lines) {
            text.push_str(&line);
            text.push('\n');
        }
        self.sink.write(&text)
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The line printed for one log record.
pub fn format_log(record: &SdkLogRecord) -> String {
    let severity = record
        .severity_text()
        .map(str::to_owned)
        .or_else(|| record.severity_number().map(|s| format!("{s:?}")))
        .unwrap_or_else(|| "UNSPECIFIED".to_owned());
    let body = match record.body() {
        Some(AnyValue::String(s)) => s.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    let mut line = format!("log {severity} {body:?}");
    match record.trace_context() {
        Some(cx) if cx.trace_id != TraceId::INVALID => {
            let _ = write!(line, " trace={} span={}", cx.trace_id, cx.span_id);
        }
        _ => line.push_str(" trace=none"),
    }
    let mut pairs: Vec<String> = record
        .attributes_iter()
        .map(|(k, v)| match v {
            AnyValue::String(s) => format!("{k}={s}"),
            AnyValue::Int(i) => format!("{k}={i}"),
            AnyValue::Double(d) => format!("{k}={d}"),
            AnyValue::Boolean(b) => format!("{k}={b}"),
            other => format!("{k}={other:?}"),
        })
        .collect();
    pairs.sort();
    for pair in pairs {
        line.push(' ');
        line.push_str(&pair);
    }
    line
}

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut text = String::new();
        for (record, _scope) in batch.iter() {
            text.push_str(&format_log(record));
            text.push('\n');
        }
        self.sink.write(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::KeyValue;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::{
        Span as _, TraceContextExt as _, Tracer, TracerProvider as _,
    };
    use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
    use opentelemetry_sdk::logs::SdkLoggerProvider;
    use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    fn text(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn metrics_print_one_sorted_line_per_point_at_shutdown() {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let provider = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(ConsoleMetricExporter::to_buffer(
                    buffer.clone(),
                ))
                .build(),
            )
            .build();
        let meter = provider.meter("test");
        let counter = meter.u64_counter("jobs").with_unit("{job}").build();
        counter.add(2, &[KeyValue::new("outcome", "ok"), KeyValue::new("b", 1)]);
        counter.add(1, &[KeyValue::new("b", 1), KeyValue::new("outcome", "ok")]);
        let latency = meter
            .f64_histogram("latency")
            .with_boundaries(vec![1.0, 10.0])
            .build();
        latency.record(0.5, &[]);
        latency.record(20.0, &[]);
        provider.shutdown().unwrap();
        let out = text(&buffer);
        assert!(
            out.contains("metric jobs{b=1,outcome=ok} counter=3 unit={job}\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "metric latency histogram count=2 sum=20.5 le1:1 le+Inf:1\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn logs_carry_the_ids_of_the_current_span() {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let loggers = SdkLoggerProvider::builder()
            .with_simple_exporter(ConsoleLogExporter::to_buffer(buffer.clone()))
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(OpenTelemetryTracingBridge::new(&loggers));
        let tracer = SdkTracerProvider::builder().build().tracer("test");
        let span = tracer.start("work");
        let (trace_id, span_id) = (
            span.span_context().trace_id(),
            span.span_context().span_id(),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(user = 7, "outside");
            let cx = opentelemetry::Context::current_with_span(span);
            let _guard = cx.attach();
            tracing::info!(user = 7, "inside");
        });
        loggers.shutdown().unwrap();
        let out = text(&buffer);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].starts_with("log WARN \"outside\" trace=none"),
            "{out}"
        );
        assert_eq!(
            lines[1],
            format!("log INFO \"inside\" trace={trace_id} span={span_id} user=7")
        );
    }
}
