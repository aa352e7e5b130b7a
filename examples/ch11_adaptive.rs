//! Chapter 11: the adaptive sampler holding 100 sampled traces a second
//! while the load steps from 1 000 to 10 000 requests a second and back,
//! and the request count a back end estimates from the kept traces alone.
//!
//! Run it with `cargo run --example ch11_adaptive`. Time is a fake clock and
//! trace ids are seeded, so the run is instant and repeatable.

use std::time::Duration;

// ANCHOR: main
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp::telemetry::sampling::{
    Adaptive, FakeRelativeClock, SeededIdGenerator, recorded_probability,
};

// ANCHOR: setup
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = FakeRelativeClock::default();
    let sampler = Adaptive::with_clock(100.0, clock.clone())?;
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler.clone())
        .with_id_generator(SeededIdGenerator::new(7))
        .build();
    let tracer = provider.tracer("ch11");
    // ANCHOR_END: setup

    // ANCHOR: load
    println!("second  requests/s  ratio   sampled  estimated");
    let load = [1_000u32; 6]
        .into_iter()
        .chain([10_000; 8])
        .chain([1_000; 8]);
    for (second, per_second) in load.enumerate() {
        let (mut sampled, mut ratio, mut estimated) = (0, 0.0, 0.0);
        for i in 0..per_second {
            let span = tracer.start("GET /orders");
            let sc = span.span_context();
            if sc.is_sampled() {
                sampled += 1;
                // A kept trace stands for 1/p requests; `ot=th:` records p.
                let p = recorded_probability(sc.trace_state());
                estimated += p.map_or(0.0, f64::recip);
            }
            if i == 0 {
                // The first root of a second closes the last one and re-tunes.
                ratio = sampler.state().ratio;
            }
            drop(span);
            clock.advance(Duration::from_secs(1) / per_second);
        }
        let row = format!("{second:>6}  {per_second:>10}  {ratio:.4}  {sampled:>7}");
        println!("{row}  {estimated:>9.0}");
    }
    Ok(())
}
// ANCHOR_END: load
// ANCHOR_END: main
