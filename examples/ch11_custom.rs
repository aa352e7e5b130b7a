//! Chapter 11: the book's rule-based and rate-limited samplers together.
//! Health checks are never sampled; of the other requests, at most 20 new
//! traces a second are.
//!
//! Run it with `cargo run --example ch11_custom`. Time is a fake clock that
//! the program advances, so the run takes milliseconds and prints the same
//! numbers every time.

use std::time::Duration;

// ANCHOR: sampler
use opentelemetry::trace::{Span, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use otlp_csp::telemetry::sampling::{
    FakeRelativeClock, Match, RateLimited, RuleBased, SeededIdGenerator,
};

fn sampler(
    clock: FakeRelativeClock,
) -> Result<RuleBased, Box<dyn std::error::Error>> {
    Ok(RuleBased::new(RateLimited::with_clock(20, clock)?)
        .rule(Match::name("GET /health"), Sampler::AlwaysOff)
        .rule(
            Match::attribute("user.tier", "internal"),
            Sampler::AlwaysOff,
        ))
}
// ANCHOR_END: sampler

// ANCHOR: request
/// Request `i` of the 600 of a second: every 6th a health check, every 10th
/// from an internal user. Returns its name, whether its root was kept, and
/// how many of its three spans were.
fn request(tracer: &SdkTracer, i: i32) -> (&'static str, bool, u32) {
    let (name, tier) = if i % 6 == 5 {
        ("GET /health", "external")
    } else if i % 10 == 0 {
        ("GET /orders", "internal")
    } else {
        ("GET /orders", "external")
    };
    let root = tracer
        .span_builder(name)
        .with_attributes([KeyValue::new("user.tier", tier)])
        .start(tracer);
    let cx = Context::current_with_span(root);
    let root_kept = cx.span().span_context().is_sampled();
    let mut spans = u32::from(root_kept);
    // Two children per request: they follow the root and take no token.
    for child in ["db.query", "render"] {
        let mut span = tracer.start_with_context(child, &cx);
        spans += u32::from(span.span_context().is_sampled());
        span.end();
    }
    (name, root_kept, spans)
}
// ANCHOR_END: request

// ANCHOR: main
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = FakeRelativeClock::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler(clock.clone())?)
        .with_id_generator(SeededIdGenerator::new(11))
        .build();
    let tracer = provider.tracer("ch11");
    for second in 0..3 {
        let (mut traces, mut spans, mut health) = (0, 0, 0);
        for i in 0..600 {
            let (name, root_kept, kept) = request(&tracer, i);
            traces += u32::from(root_kept);
            spans += kept;
            health += u32::from(root_kept && name == "GET /health");
            clock.advance(Duration::from_secs(1) / 600);
        }
        print!("second {second}: 600 requests, {traces} traces kept ");
        println!("({spans} spans), {health} health checks");
    }
    Ok(())
}
// ANCHOR_END: main
