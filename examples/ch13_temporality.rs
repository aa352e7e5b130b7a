//! Chapter 13, "Metrics and logs next to traces": temporality. The same
//! counter (add 3, collect, add 2, collect) is exported over OTLP twice, once
//! cumulative and once delta, to the book's in-process receiver, which prints
//! what arrived. Timestamps are named t0, t1, t2 in the order they occur.
//!
//! Run it with `cargo run --example ch13_temporality`. The tests (run by
//! `cargo test --workspace`) check both exports, and show each check
//! rejecting points whose label says one temporality and whose times say
//! the other.

use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{SdkMeterProvider, Temporality};
use otlp_receiver::Receiver;
use otlp_receiver::proto::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, metric::Data,
    number_data_point::Value,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const WAIT: Duration = Duration::from_secs(10);

/// The points of one Sum as the receiver got them, in arrival order.
#[derive(Clone, Debug)]
struct Series {
    temporality: AggregationTemporality,
    points: Vec<NumberDataPoint>,
}

// ANCHOR: export
/// Adds 3, collects, adds 2, collects; exported with `temporality`.
fn export_twice(temporality: Temporality) -> Result<Series> {
    let runtime = tokio::runtime::Runtime::new()?;
    let receiver = runtime.block_on(Receiver::start())?;
    let exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/metrics", receiver.http_endpoint()))
        .with_temporality(temporality) // the default is Cumulative
        .build()?;
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .build();
    let orders = provider.meter("ch13").u64_counter("orders.placed").build();
    orders.add(3, &[]);
    provider.force_flush()?; // collection 1
    orders.add(2, &[]);
    provider.force_flush()?; // collection 2
    let metrics = runtime.block_on(receiver.wait_for_metric_points(2, WAIT))?;
    provider.shutdown()?;
    series(&metrics, "orders.placed")
}
// ANCHOR_END: export

// ANCHOR: checks
/// Delta: labelled so, and each point starts where the one before ended.
fn check_delta(s: &Series) -> Result<(), String> {
    label(s, AggregationTemporality::Delta)?;
    // `n` counts points from 1: window `w` holds points n - 1 and n.
    for (n, w) in (2..).zip(s.points.windows(2)) {
        if w[1].start_time_unix_nano != w[0].time_unix_nano {
            let m = n - 1;
            return Err(format!("point {n} does not start where {m} ended"));
        }
    }
    Ok(())
}

/// Cumulative: labelled so, every point has the first one's start, and a
/// counter's value never falls.
fn check_cumulative(s: &Series) -> Result<(), String> {
    label(s, AggregationTemporality::Cumulative)?;
    for (n, w) in (2..).zip(s.points.windows(2)) {
        if w[1].start_time_unix_nano != w[0].start_time_unix_nano {
            return Err(format!("point {n} has a new start time"));
        }
        if value(&w[1]) < value(&w[0]) {
            return Err(format!("point {n} is below point {}", n - 1));
        }
    }
    Ok(())
}
// ANCHOR_END: checks

/// The field every Sum carries, compared with what the check expects; fewer
/// than two points cannot show how intervals follow one another.
fn label(s: &Series, want: AggregationTemporality) -> Result<(), String> {
    if s.temporality != want {
        return Err(format!("labelled {}", s.temporality.as_str_name()));
    }
    if s.points.len() < 2 {
        return Err(format!("{} points, need two", s.points.len()));
    }
    Ok(())
}

/// Collects the points of the Sum `name` from every request received.
fn series(metrics: &[Metric], name: &str) -> Result<Series> {
    let mut temporality = None;
    let mut points = Vec::new();
    for metric in metrics.iter().filter(|m| m.name == name) {
        let Some(Data::Sum(sum)) = &metric.data else {
            return Err(format!("{name} arrived but is not a Sum").into());
        };
        let t = AggregationTemporality::try_from(sum.aggregation_temporality)?;
        if *temporality.get_or_insert(t) != t {
            return Err(format!("{name} changed temporality between exports").into());
        }
        points.extend(sum.data_points.iter().cloned());
    }
    let temporality = temporality.ok_or(format!("no {name} received"))?;
    Ok(Series {
        temporality,
        points,
    })
}

fn value(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(Value::AsInt(v)) => v as f64,
        Some(Value::AsDouble(v)) => v,
        None => f64::NAN,
    }
}

/// Prints the points with their times named t0, t1, ... in time order.
fn print(name: &str, s: &Series) {
    println!("{name} export, labelled {}", s.temporality.as_str_name());
    let mut times: Vec<u64> = s
        .points
        .iter()
        .flat_map(|p| [p.start_time_unix_nano, p.time_unix_nano])
        .collect();
    times.sort_unstable();
    times.dedup();
    let t = |nanos: u64| times.iter().position(|&x| x == nanos).unwrap_or(0);
    for (i, p) in s.points.iter().enumerate() {
        let (start, end) = (t(p.start_time_unix_nano), t(p.time_unix_nano));
        println!("  point {}: {} over (t{start}, t{end}]", i + 1, value(p));
    }
    let added: f64 = s.points.iter().map(value).sum();
    println!("  the points added up: {added}");
    let verdict = |r: Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("rejected ({e})"),
    };
    println!("  check_cumulative: {}", verdict(check_cumulative(s)));
    println!("  check_delta: {}", verdict(check_delta(s)));
}

fn main() -> Result<()> {
    print("cumulative", &export_twice(Temporality::Cumulative)?);
    print("delta", &export_twice(Temporality::Delta)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cumulative_export_passes_only_the_cumulative_check() {
        let s = export_twice(Temporality::Cumulative).expect("export");
        let values: Vec<f64> = s.points.iter().map(value).collect();
        assert_eq!(values, [3.0, 5.0]);
        assert_eq!(check_cumulative(&s), Ok(()));
        assert_eq!(
            check_delta(&s),
            Err("labelled AGGREGATION_TEMPORALITY_CUMULATIVE".to_owned())
        );
    }

    #[test]
    fn a_delta_export_passes_only_the_delta_check() {
        let s = export_twice(Temporality::Delta).expect("export");
        let values: Vec<f64> = s.points.iter().map(value).collect();
        assert_eq!(values, [3.0, 2.0]);
        assert_eq!(check_delta(&s), Ok(()));
        assert_eq!(
            check_cumulative(&s),
            Err("labelled AGGREGATION_TEMPORALITY_DELTA".to_owned())
        );
    }

    #[test]
    fn check_delta_rejects_cumulative_points_labelled_delta() {
        // The planted bug: a producer that says Delta and sends totals.
        let mut s = export_twice(Temporality::Cumulative).expect("export");
        s.temporality = AggregationTemporality::Delta;
        assert_eq!(
            check_delta(&s),
            Err("point 2 does not start where 1 ended".to_owned())
        );
    }

    #[test]
    fn check_cumulative_rejects_delta_points_labelled_cumulative() {
        // The planted bug: a producer that says Cumulative and sends deltas.
        let mut s = export_twice(Temporality::Delta).expect("export");
        s.temporality = AggregationTemporality::Cumulative;
        assert_eq!(
            check_cumulative(&s),
            Err("point 2 has a new start time".to_owned())
        );
        // With the start times forged too, the falling value gives it away.
        s.points[1].start_time_unix_nano = s.points[0].start_time_unix_nano;
        assert_eq!(
            check_cumulative(&s),
            Err("point 2 is below point 1".to_owned())
        );
    }

    #[test]
    fn one_point_is_not_enough_to_tell() {
        let mut s = export_twice(Temporality::Delta).expect("export");
        s.points.truncate(1);
        assert_eq!(check_delta(&s), Err("1 points, need two".to_owned()));
    }
}
