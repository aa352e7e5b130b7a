//! Chapter 16: timestamps from two clocks can put an effect before its
//! cause; vector clocks cannot.

use std::time::{Duration, SystemTime};

use opentelemetry::Context;
use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otlp_csp::models::clocks::{Action, Execution, Step};

const MS: Duration = Duration::from_millis(1);

fn main() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ch16");
    // ANCHOR: skew
    // True time runs from `t0`. Host B's clock is 5 ms behind host A's.
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let skew = 5 * MS;
    for delay in [2 * MS, 8 * MS] {
        // The client on A starts its span at true time 0 and sends at once;
        // the request reaches B after `delay`, and B stamps with its clock.
        let mut client = tracer
            .span_builder("client.call")
            .with_start_time(t0)
            .start(&tracer);
        let cx =
            Context::new().with_remote_span_context(client.span_context().clone());
        let b_clock = |true_time: SystemTime| true_time - skew;
        let mut server = tracer
            .span_builder("server.handle")
            .with_start_time(b_clock(t0 + delay))
            .start_with_context(&tracer, &cx);
        server.end_with_timestamp(b_clock(t0 + delay + MS));
        client.end_with_timestamp(t0 + 2 * delay + MS);
        // ANCHOR_END: skew

        // ANCHOR: skew_order
        let mut spans = exporter.get_finished_spans().unwrap();
        exporter.reset();
        spans.sort_by_key(|s| s.start_time);
        let order: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
        let right = order == ["client.call", "server.handle"];
        println!(
            "skew {skew:?}, delay {delay:?}: by start time {} ({})",
            order.join(" then "),
            if right {
                "right"
            } else {
                "wrong: the child starts before its parent"
            }
        );
    }
    // ANCHOR_END: skew_order
    // ANCHOR: vector
    // The same two events as an execution: p0 sends m0, p1 receives it.
    let x = Execution::new(vec![
        Step {
            process: 0,
            action: Action::Send(0),
        },
        Step {
            process: 1,
            action: Action::Receive(0),
        },
    ])
    .unwrap();
    let vc = x.vector();
    println!(
        "vector clocks: send {} < receive {}: {}, whatever the skew",
        vc[0],
        vc[1],
        vc[0].before(&vc[1])
    );
    // ANCHOR_END: vector
    provider.shutdown().unwrap();
}
