//! Chapter 13, "Metrics and logs next to traces": a Prometheus-style pull
//! endpoint next to OTLP push. One meter provider has two readers: the
//! periodic OTLP reader, which pushes to the book's in-process receiver, and
//! `opentelemetry-prometheus`, whose registry an axum handler serves at
//! `/metrics` in the Prometheus text format. The example scrapes the endpoint
//! over HTTP, parses the text and checks it against what was recorded and
//! what the push reader sent at the same moment.
//!
//! Run it with `cargo run --example ch13_prometheus`. The tests (run by
//! `cargo test --workspace`) show the check rejecting three wirings that are
//! wrong: the pull reader on another provider, counters without `_total`,
//! and a scrape taken later than the push.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use opentelemetry::metrics::{Counter, Meter, MeterProvider as _};
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig};
use opentelemetry_prometheus::PrometheusExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use otlp_receiver::Receiver;
use otlp_receiver::proto::metrics::v1::{Metric, metric::Data, number_data_point};
use prometheus::{Registry, TextEncoder};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const WAIT: Duration = Duration::from_secs(10);
const ORDERS: u64 = 3;
const BOUNDS_S: [f64; 3] = [0.01, 0.1, 1.0];
const DURATIONS_S: [f64; 5] = [0.003, 0.012, 0.045, 0.2, 1.3];

// ANCHOR: readers
/// One meter provider, two readers: OTLP push on a timer, and Prometheus
/// pull on every scrape. Each reader keeps its own aggregation state.
fn provider(push: MetricExporter, pull: PrometheusExporter) -> SdkMeterProvider {
    let resource = Resource::builder_empty().with_service_name("shop").build();
    SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(push)
        .with_reader(pull)
        .build()
}
// ANCHOR_END: readers

// ANCHOR: endpoint
/// `GET /metrics`: every metric family of the registry, in the text format.
/// Gathering collects from the pull reader, which runs any callbacks.
async fn metrics(State(registry): State<Registry>) -> Response {
    let mut body = String::new();
    match TextEncoder::new().encode_utf8(&registry.gather(), &mut body) {
        Ok(()) => ([(CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn serve(registry: Registry) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(registry);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
// ANCHOR_END: endpoint

/// What a run records: `ORDERS` orders and five request durations.
fn record(meter: &Meter) -> Counter<u64> {
    let orders = meter
        .u64_counter("orders.placed")
        .with_unit("{order}")
        .build();
    orders.add(ORDERS, &[]);
    let duration = meter
        .f64_histogram("request.duration")
        .with_unit("s")
        .with_boundaries(BOUNDS_S.to_vec())
        .build();
    for seconds in DURATIONS_S {
        duration.record(seconds, &[]);
    }
    orders
}

/// How the two readers are wired: right, or one of three planted bugs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Wiring {
    Right,
    /// The pull reader serves a provider no instrument was created on.
    PullOnAnotherProvider,
    /// The exporter drops the `_total` suffix Prometheus counters carry.
    NoTotalSuffix,
    /// One more order is recorded after the push and before the scrape.
    RecordAfterPush,
}

/// A run's results: the scrape as text, and the three sets of values.
struct Run {
    status: StatusCode,
    content_type: String,
    body: String,
    recorded: Values,
    pushed: Values,
    scraped: Result<Values, String>,
}

fn run(wiring: Wiring) -> Result<Run> {
    // The receiver, the endpoint and the scrape run on this runtime; the SDK
    // calls (which block) run on the main thread.
    let runtime = tokio::runtime::Runtime::new()?;
    let receiver = runtime.block_on(Receiver::start())?;
    // ANCHOR: wire
    let push = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/metrics", receiver.http_endpoint()))
        .build()?;
    let registry = Registry::new();
    let pull = opentelemetry_prometheus::exporter().with_registry(registry.clone());
    // ANCHOR_END: wire
    let pull = if wiring == Wiring::NoTotalSuffix {
        pull.without_counter_suffixes()
    } else {
        pull
    };
    let pull = pull.build()?;
    let (provider, _other) = if wiring == Wiring::PullOnAnotherProvider {
        let other = SdkMeterProvider::builder().with_reader(pull).build();
        let only_push = SdkMeterProvider::builder().with_periodic_exporter(push);
        (only_push.build(), Some(other))
    } else {
        (provider(push, pull), None)
    };

    // ANCHOR: scrape
    let orders = record(&provider.meter("ch13"));
    provider.force_flush()?; // the push reader collects and exports now
    let metrics = runtime.block_on(receiver.wait_for_metric_points(2, WAIT))?;
    // ANCHOR_END: scrape
    if wiring == Wiring::RecordAfterPush {
        orders.add(1, &[]);
    }
    // ANCHOR: scrape_get
    let (status, content_type, body) = runtime.block_on(async {
        let addr = serve(registry).await?;
        scrape(&format!("http://{addr}/metrics")).await
    })?;
    let scraped = parse(&body).and_then(|samples| scraped(&samples));
    // ANCHOR_END: scrape_get
    provider.shutdown()?;
    let pushed = pushed(&metrics)?;
    let recorded = recorded();
    Ok(Run {
        status,
        content_type,
        body,
        recorded,
        pushed,
        scraped,
    })
}

/// A real HTTP GET: the status, the content type and the body.
async fn scrape(url: &str) -> Result<(StatusCode, String, String)> {
    let response = reqwest::get(url).await?;
    let status = response.status();
    let content_type = match response.headers().get(CONTENT_TYPE) {
        Some(value) => value.to_str()?.to_owned(),
        None => String::new(),
    };
    Ok((status, content_type, response.text().await?))
}

/// The figures the check compares: the counter, and the histogram's count,
/// sum and cumulative bucket counts (`le` bound, samples at or below it).
#[derive(Clone, Debug, PartialEq)]
struct Values {
    orders: f64,
    count: u64,
    sum: f64,
    buckets: Vec<(f64, u64)>,
}

// ANCHOR: check
/// The push must carry what the code recorded, and the scrape what the
/// push reader sent at the same moment.
fn check(
    recorded: &Values,
    pushed: &Values,
    scraped: &Values,
) -> Result<(), String> {
    first_difference(("recorded", recorded), ("pushed", pushed))?;
    first_difference(("pushed", pushed), ("scraped", scraped))
}

fn first_difference(a: (&str, &Values), b: (&str, &Values)) -> Result<(), String> {
    let ((a_name, a), (b_name, b)) = (a, b);
    let differ = |what: &str, x: &dyn Debug, y: &dyn Debug| {
        Err(format!("{what}: {a_name} {x:?}, {b_name} {y:?}"))
    };
    if a.orders != b.orders {
        return differ("orders", &a.orders, &b.orders);
    }
    if (a.count, a.sum) != (b.count, b.sum) {
        return differ("(count, sum)", &(a.count, a.sum), &(b.count, b.sum));
    }
    if a.buckets != b.buckets {
        return differ("buckets", &a.buckets, &b.buckets);
    }
    Ok(())
}
// ANCHOR_END: check

/// What `record` recorded, worked out from the constants.
fn recorded() -> Values {
    let bounds = BOUNDS_S.into_iter().chain([f64::INFINITY]);
    let at_or_below = |b: f64| DURATIONS_S.iter().filter(|&&d| d <= b).count();
    Values {
        orders: ORDERS as f64,
        count: DURATIONS_S.len() as u64,
        sum: DURATIONS_S.iter().sum(),
        buckets: bounds.map(|b| (b, at_or_below(b) as u64)).collect(),
    }
}

/// What the push reader sent, from the OTLP the receiver decoded.
fn pushed(metrics: &[Metric]) -> Result<Values> {
    let find = |name: &str| {
        let metric = metrics.iter().find(|m| m.name == name);
        metric.and_then(|m| m.data.as_ref())
    };
    let Some(Data::Sum(sum)) = find("orders.placed") else {
        return Err("no Sum orders.placed received".into());
    };
    let orders = match sum.data_points.first().and_then(|p| p.value) {
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        Some(number_data_point::Value::AsDouble(v)) => v,
        None => return Err("orders.placed has no value".into()),
    };
    let Some(Data::Histogram(histogram)) = find("request.duration") else {
        return Err("no Histogram request.duration received".into());
    };
    let p = histogram.data_points.first().ok_or("no histogram point")?;
    // OTLP counts per bucket; Prometheus counts at or below each bound.
    let bounds = p.explicit_bounds.iter().copied().chain([f64::INFINITY]);
    let mut running = 0;
    let mut buckets = Vec::new();
    for (bound, n) in bounds.zip(&p.bucket_counts) {
        running += n;
        buckets.push((bound, running));
    }
    let sum = p.sum.ok_or("request.duration has no sum")?;
    Ok(Values {
        orders,
        count: p.count,
        sum,
        buckets,
    })
}

/// What the scrape shows, from the parsed text.
fn scraped(samples: &[Sample]) -> Result<Values, String> {
    let one = |name: &str| {
        let mut found = samples.iter().filter(|s| s.name == name);
        match (found.next(), found.next()) {
            (Some(sample), None) => Ok(sample.value),
            (None, _) => Err(format!("no {name} line")),
            (Some(_), Some(_)) => Err(format!("more than one {name} line")),
        }
    };
    let orders = one("orders_placed_total")?;
    let count = one("request_duration_seconds_count")? as u64;
    let sum = one("request_duration_seconds_sum")?;
    let mut buckets = Vec::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "request_duration_seconds_bucket")
    {
        let le = s.label("le").ok_or("a bucket line without le")?;
        buckets.push((parse_value(le)?, s.value as u64));
    }
    Ok(Values {
        orders,
        count,
        sum,
        buckets,
    })
}

/// One sample line of the text format: `name{label="value",...} value`.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, key: &str) -> Option<&str> {
        let pair = self.labels.iter().find(|(k, _)| k == key);
        pair.map(|(_, v)| v.as_str())
    }
}

/// Parses the sample lines of a scrape (comments and blank lines skipped);
/// an error names the line.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sample = parse_line(line);
        samples.push(sample.map_err(|e| format!("line {}: {e}: {line}", n + 1))?);
    }
    Ok(samples)
}

fn parse_line(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ', '\t']).ok_or("no value")?;
    let name = &line[..end];
    if name.is_empty() {
        return Err("no metric name".into());
    }
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("a label without '='")?;
            let key = rest[..eq].trim().to_owned();
            let quoted = rest[eq + 1..].trim_start().strip_prefix('"');
            let (value, after) =
                label_value(quoted.ok_or("an unquoted label value")?)?;
            labels.push((key, value));
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    // The value, then an optional timestamp, which the check does not need.
    let value = rest.split_whitespace().next().ok_or("no value")?;
    let value = parse_value(value)?;
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Reads a label value up to its closing quote (escapes: `\\`, `\"`, `\n`);
/// returns the value and what follows the quote.
fn label_value(s: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, c @ ('\\' | '"'))) => value.push(c),
                _ => return Err("a bad escape in a label value".into()),
            },
            c => value.push(c),
        }
    }
    Err("an unterminated label value".into())
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse().map_err(|_| format!("{s:?} is not a number")),
    }
}

fn main() -> Result<()> {
    let run = run(Wiring::Right)?;
    println!("GET /metrics: {}, {}", run.status, run.content_type);
    print!("{}", run.body);
    let p = &run.pushed;
    println!("OTLP push: orders.placed {}, request.duration", p.orders);
    println!("  count {} sum {} buckets {:?}", p.count, p.sum, p.buckets);
    check(&run.recorded, &run.pushed, &run.scraped?)?;
    println!("check: the scrape equals the push, which equals what was recorded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check's answer for `wiring`, and the sample lines it read.
    fn verdict(wiring: Wiring) -> (Result<(), String>, Vec<String>) {
        let run = run(wiring).expect("run");
        assert_eq!(run.status, StatusCode::OK);
        assert_eq!(
            run.pushed, run.recorded,
            "the push is right in every wiring"
        );
        let lines = run.body.lines().filter(|l| !l.starts_with('#'));
        let lines = lines.map(str::to_owned).collect();
        let answer = run
            .scraped
            .and_then(|scraped| check(&run.recorded, &run.pushed, &scraped));
        (answer, lines)
    }

    #[test]
    fn the_right_wiring_passes() {
        assert_eq!(verdict(Wiring::Right).0, Ok(()));
    }

    #[test]
    fn a_pull_reader_on_another_provider_is_rejected() {
        // Planted bug: `/metrics` answers, without the application's metrics.
        let (answer, lines) = verdict(Wiring::PullOnAnotherProvider);
        assert_eq!(answer, Err("no orders_placed_total line".to_owned()));
        assert!(
            lines.iter().all(|l| l.starts_with("target_info{")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_counter_without_total_is_rejected() {
        let (answer, lines) = verdict(Wiring::NoTotalSuffix);
        assert_eq!(answer, Err("no orders_placed_total line".to_owned()));
        let line = "orders_placed{otel_scope_name=\"ch13\"} 3";
        assert!(lines.iter().any(|l| l == line), "{lines:?}");
    }

    #[test]
    fn a_scrape_later_than_the_push_is_rejected() {
        let (answer, lines) = verdict(Wiring::RecordAfterPush);
        assert_eq!(answer, Err("orders: pushed 3.0, scraped 4.0".to_owned()));
        let line = "orders_placed_total{otel_scope_name=\"ch13\"} 4";
        assert!(lines.iter().any(|l| l == line), "{lines:?}");
    }

    #[test]
    fn the_parser_reads_labels_escapes_and_infinity() {
        let text = "# TYPE x counter\nx_bucket{a=\"q\\\"u\",le=\"+Inf\"} 2 1700\n";
        let samples = parse(text).expect("parses");
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].name, "x_bucket");
        assert_eq!(samples[0].label("a"), Some("q\"u"));
        assert_eq!(samples[0].label("le"), Some("+Inf"));
        assert_eq!(samples[0].value, 2.0);
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        let bad = [
            "x{a=\"b} 1",
            "x{a=b} 1",
            "x{a} 1",
            "x 1e",
            "x",
            "{a=\"b\"} 1",
            "x{a=\"\\q\"} 1",
        ];
        for line in bad {
            assert!(parse(line).is_err(), "{line:?} should not parse");
        }
    }
}
