//! The SDK's trace-id ratio sampler: unbiased, the same decision in every
//! service for one trace id, and nested across ratios.

use std::collections::HashMap;

use book_results::{Measurement, record};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Span, SpanContext, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer, TracerProvider,
};
use opentelemetry::{Context, trace::SpanId};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, Sampler, SamplingDecision, SdkTracerProvider,
    ShouldSample,
};
use proptest::prelude::*;

fn sampled(sampler: &dyn ShouldSample, trace_id: TraceId) -> bool {
    let result =
        sampler.should_sample(None, trace_id, "op", &SpanKind::Internal, &[], &[]);
    result.decision == SamplingDecision::RecordAndSample
}

const IDS: u64 = 100_000;
const RATIOS: [f64; 6] = [0.001, 0.01, 0.1, 0.25, 0.5, 0.9];

/// For each ratio `p`, the number of sampled traces among `IDS` random trace
/// ids is Binomial(IDS, p): it must lie within six standard deviations of
/// `IDS * p` (a false alarm has probability about 2e-9 per ratio).
#[test]
fn ratio_sampling_is_unbiased_within_six_sigma() {
    let ids = RandomIdGenerator::default();
    let trace_ids: Vec<TraceId> = (0..IDS).map(|_| ids.new_trace_id()).collect();
    let mut measured = Vec::new();
    for p in RATIOS {
        let sampler = Sampler::TraceIdRatioBased(p);
        let k = trace_ids
            .iter()
            .filter(|id| sampled(&sampler, **id))
            .count() as f64;
        let n = IDS as f64;
        let sigma = (n * p * (1.0 - p)).sqrt();
        assert!(
            (k - n * p).abs() <= 6.0 * sigma,
            "ratio {p}: {k} of {n} sampled, expected {} ± {}",
            n * p,
            6.0 * sigma
        );
        let percent = |x: f64| 100.0 * x / n;
        let mut m = Measurement::count(
            format!("ch11_ratio/sampled_pct/{p}"),
            percent(k),
            "% of traces",
        );
        m.lower = Some(percent(n * p - 6.0 * sigma).max(0.0));
        m.upper = Some(percent(n * p + 6.0 * sigma));
        measured.push(m);
    }
    record("ch11_ratio", measured).expect("record results");
}

/// Two services, two providers, one trace: service A starts the root and
/// sends its context in a `traceparent` header; service B runs its own
/// `TraceIdRatioBased` sampler (not parent-based, so it decides afresh).
/// B decides exactly as A did, because the decision is a function of the
/// trace id alone.
#[test]
fn two_services_with_the_same_ratio_decide_alike() {
    let service = |p| {
        SdkTracerProvider::builder()
            .with_sampler(Sampler::TraceIdRatioBased(p))
            .build()
    };
    let (a, b) = (service(0.3), service(0.3));
    let (ta, tb) = (a.tracer("a"), b.tracer("b"));
    let propagator = TraceContextPropagator::new();
    let (mut agree, mut sampled_in_a) = (0, 0);
    for _ in 0..2_000 {
        let root = Context::current_with_span(ta.start("checkout"));
        let mut headers = HashMap::new();
        propagator.inject_context(&root, &mut headers);
        // B sees the root only through the header.
        let remote = propagator.extract(&headers);
        let child = tb.start_with_context("charge", &remote);
        let (pa, pb) = (
            root.span().span_context().clone(),
            child.span_context().clone(),
        );
        assert_eq!(pa.trace_id(), pb.trace_id());
        sampled_in_a += usize::from(pa.is_sampled());
        agree += usize::from(pa.is_sampled() == pb.is_sampled());
    }
    assert_eq!(agree, 2_000, "every decision agrees");
    assert!(
        sampled_in_a > 0 && sampled_in_a < 2_000,
        "both outcomes occurred"
    );
}

/// The SDK's rule, written out: bytes 8..16 of the trace id as a big-endian
/// `u64`, shifted right by one (63 bits), compared with `p * 2^63`.
fn rule(p: f64, trace_id: u128) -> bool {
    if p >= 1.0 {
        return true;
    }
    let low = (trace_id as u64) >> 1;
    low < (p.max(0.0) * (1u64 << 63) as f64) as u64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The implementation is exactly the rule above.
    #[test]
    fn the_decision_is_a_threshold_on_63_bits(id in any::<u128>().prop_filter("valid", |i| *i != 0), p in 0.0f64..=1.0) {
        let decision = sampled(&Sampler::TraceIdRatioBased(p), TraceId::from(id));
        prop_assert_eq!(decision, rule(p, id));
    }

    /// So the upper 64 bits and the lowest bit never matter.
    #[test]
    fn only_bits_1_to_63_of_the_low_half_matter(id in 1u128.., high in any::<u64>(), p in 0.0f64..1.0) {
        let other = (u128::from(high) << 64) | (id & u128::from(u64::MAX)) ^ 1;
        prop_assume!(other != 0);
        let s = Sampler::TraceIdRatioBased(p);
        prop_assert_eq!(sampled(&s, TraceId::from(id)), sampled(&s, TraceId::from(other)));
    }

    /// A lower ratio's sampled set is a subset of a higher ratio's: the
    /// threshold grows with the ratio and the compared bits do not change.
    #[test]
    fn a_lower_ratio_samples_a_subset(id in 1u128.., a in 0.0f64..=1.0, b in 0.0f64..=1.0) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let id = TraceId::from(id);
        if sampled(&Sampler::TraceIdRatioBased(low), id) {
            prop_assert!(sampled(&Sampler::TraceIdRatioBased(high), id));
        }
    }

    /// A plain ratio sampler ignores the parent's flag; a parent-based one
    /// follows it whatever the ratio.
    #[test]
    fn ratio_ignores_the_parent_and_parent_based_follows_it(id in 1u128.., p in 0.0f64..=1.0, parent_sampled in any::<bool>()) {
        let trace_id = TraceId::from(id);
        let flags = if parent_sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            trace_id, SpanId::from(7u64), flags, true, TraceState::default(),
        ));
        let decide = |s: &dyn ShouldSample| {
            s.should_sample(Some(&parent), trace_id, "op", &SpanKind::Server, &[], &[]).decision
                == SamplingDecision::RecordAndSample
        };
        prop_assert_eq!(decide(&Sampler::TraceIdRatioBased(p)), rule(p, id));
        let parent_based = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(p)));
        prop_assert_eq!(decide(&parent_based), parent_sampled);
    }
}
