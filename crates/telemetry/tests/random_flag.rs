//! The random flag of W3C Trace Context Level 2 (TC2 §3.2.2.5.2) through a
//! real service hop: extract, a server span started by the SDK's tracer,
//! its context made by `context_with_span`, inject. The rules checked:
//!
//! - a flag set on the way in is set on the way out, whether the sampler
//!   keeps the server span or drops it (the SDK's tracer gives a dropped
//!   span flags `00`);
//! - a flag unset on the way in stays unset (never claimed for an id this
//!   process did not make);
//! - a trace this process begins with `RandomIds`, the set-up's generator,
//!   goes out with the flag, and with the sampled bit as the sampler decided.
//!
//! Each check is shown failing: on the pitfall (`Context::current_with_span`),
//! on the SDK's propagator, on two planted bugs, and on a provider without
//! `RandomIds`.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Span};
use otlp_csp_telemetry::propagation::mutants::Mutant;
use otlp_csp_telemetry::propagation::{
    RandomIds, W3cTraceContext, context_with_span,
};
use otlp_csp_telemetry::sampling::SeededIdGenerator;
use otlp_csp_telemetry::{SamplerChoice, TelemetryConfig, init_with};

const TID: &str = "12345678901234567890123456789012";
const PID: &str = "1234567890123456";

/// How the server makes its span's context.
type Make = fn(&Context, Span) -> Context;

fn helper(parent: &Context, span: Span) -> Context {
    context_with_span(parent, span)
}

fn pitfall(_: &Context, span: Span) -> Context {
    Context::current_with_span(span)
}

/// A provider like the set-up's: `RandomIds` and the given sampler.
fn provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_id_generator(RandomIds::default())
        .with_sampler(sampler)
        .build()
}

fn keeps() -> Sampler {
    Sampler::AlwaysOn
}

fn drops() -> Sampler {
    Sampler::AlwaysOff
}

fn follows_parent() -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
}

/// One request through a server: the outgoing `traceparent`, if any.
fn hop(
    propagator: &dyn TextMapPropagator,
    provider: &SdkTracerProvider,
    make: Make,
    flags: Option<&str>,
) -> Option<String> {
    let mut incoming = HashMap::new();
    if let Some(flags) = flags {
        incoming.insert("traceparent".to_owned(), format!("00-{TID}-{PID}-{flags}"));
    }
    let parent = propagator.extract(&incoming);
    let span = provider
        .tracer("server")
        .start_with_context("GET /work", &parent);
    let cx = make(&parent, span);
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    out.remove("traceparent")
}

/// The cases: incoming flags (none: a request without `traceparent`), the
/// sampler, the outgoing flags TC2 asks for.
fn cases() -> Vec<(Option<&'static str>, &'static str, Sampler, &'static str)> {
    vec![
        (Some("03"), "kept", keeps(), "03"),
        (Some("03"), "dropped", drops(), "02"),
        (Some("02"), "dropped", follows_parent(), "02"),
        (Some("02"), "kept", keeps(), "03"),
        (Some("01"), "kept", keeps(), "01"),
        (Some("00"), "dropped", follows_parent(), "00"),
        (Some("01"), "dropped", drops(), "00"),
        (None, "kept", keeps(), "03"),
        (None, "dropped", drops(), "02"),
    ]
}

/// Every case through `propagator` and `make`; the cases that broke a rule.
fn check(propagator: &dyn TextMapPropagator, make: Make) -> Result<(), Vec<String>> {
    let mut wrong = Vec::new();
    for (flags, what, sampler, expected) in cases() {
        let out = hop(propagator, &provider(sampler), make, flags);
        let Some(out) = out else {
            wrong.push(format!("{flags:?} {what}: nothing sent"));
            continue;
        };
        let same_trace = &out[3..35] == TID;
        let ok = out.len() == 55
            && &out[53..] == expected
            && same_trace == flags.is_some()
            && &out[36..52] != PID;
        if !ok {
            wrong.push(format!(
                "{flags:?} {what}: sent {out}, want flags {expected}"
            ));
        }
    }
    if wrong.is_empty() { Ok(()) } else { Err(wrong) }
}

#[test]
fn the_bit_survives_a_kept_and_a_dropped_server_span() {
    assert_eq!(check(&W3cTraceContext::new(), helper), Ok(()));
}

/// The cases `check` rejected, by their label.
fn rejected(result: Result<(), Vec<String>>) -> Vec<String> {
    let wrong = result.expect_err("the check rejects it");
    let label = |w: &String| w.split(':').next().unwrap_or_default().to_owned();
    wrong.iter().map(label).collect()
}

#[test]
fn the_pitfall_loses_the_bit_of_a_dropped_span_and_of_a_new_trace() {
    // A kept span's context keeps the received bit (the SDK copies the
    // parent's flags), so only the dropped spans and the new traces fail.
    assert_eq!(
        rejected(check(&W3cTraceContext::new(), pitfall)),
        [
            "Some(\"03\") dropped",
            "Some(\"02\") dropped",
            "None kept",
            "None dropped"
        ]
    );
}

#[test]
fn planted_bugs_are_rejected() {
    let forgets = W3cTraceContext::new().with_planted_bug(Mutant::ForgetsRandom);
    assert_eq!(
        rejected(check(&forgets, helper)),
        [
            "Some(\"03\") dropped",
            "Some(\"02\") dropped",
            "None kept",
            "None dropped"
        ]
    );
    // Claiming the flag for every local span gives it to ids that came in
    // without it, which §3.2.2.5.2 forbids ("MUST also be unset").
    let claims = W3cTraceContext::new().with_planted_bug(Mutant::ClaimsRandom);
    assert_eq!(
        rejected(check(&claims, helper)),
        [
            "Some(\"01\") kept",
            "Some(\"00\") dropped",
            "Some(\"01\") dropped"
        ]
    );
}

#[test]
fn the_sdk_propagator_keeps_only_the_sampled_bit() {
    assert_eq!(
        rejected(check(&TraceContextPropagator::new(), helper)),
        [
            "Some(\"03\") kept",
            "Some(\"03\") dropped",
            "Some(\"02\") dropped",
            "Some(\"02\") kept",
            "None kept",
            "None dropped"
        ]
    );
}

#[test]
fn a_trace_id_random_ids_did_not_make_is_never_marked() {
    // Same helper, a provider whose ids come from another generator: a new
    // trace goes out without the flag (TC2 §3.2.2.5.2: "MAY still be random").
    let seeded = SdkTracerProvider::builder()
        .with_id_generator(SeededIdGenerator::new(1))
        .build();
    let out = hop(&W3cTraceContext::new(), &seeded, helper, None).unwrap();
    assert!(out.ends_with("-01"), "{out}");
    // A span started on one thread and given its context on another is not
    // marked either: the helper only marks what it knows.
    let provider = provider(keeps());
    let span = std::thread::scope(|s| {
        s.spawn(|| provider.tracer("t").start("root"))
            .join()
            .unwrap()
    });
    let cx = context_with_span(&Context::new(), span);
    let mut out = HashMap::new();
    W3cTraceContext::new().inject_context(&cx, &mut out);
    assert!(out["traceparent"].ends_with("-01"), "{out:?}");
}

// ANCHOR: set_up
/// A trace the book's set-up begins: `-03` when sampled, `-02` when not.
fn begun_by_the_set_up(sampler: SamplerChoice) -> String {
    let config = TelemetryConfig {
        sampler,
        ..TelemetryConfig::silent("random-flag")
    };
    let telemetry = init_with(config).expect("init");
    let span = telemetry.provider().tracer("t").start("GET /");
    let cx = context_with_span(&Context::current(), span);
    let mut out = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut out)
    });
    out.remove("traceparent").expect("a traceparent")
}

#[test]
fn the_set_up_says_its_trace_ids_are_random() {
    let sampled = begun_by_the_set_up(SamplerChoice::ParentBasedAlwaysOn);
    let dropped = begun_by_the_set_up(SamplerChoice::ParentBasedAlwaysOff);
    assert!(sampled.ends_with("-03") && dropped.ends_with("-02"));
}
// ANCHOR_END: set_up

#[test]
fn an_unset_flag_overrides_an_earlier_context_of_the_same_trace() {
    // Extracting into a context that already says the trace is random: the
    // request in hand, which says it is not, decides (§3.2.2.5.2).
    let propagator = W3cTraceContext::new();
    let header = |flags: &str| {
        HashMap::from([(
            "traceparent".to_owned(),
            format!("00-{TID}-{PID}-{flags}"),
        )])
    };
    let earlier = propagator.extract(&header("03"));
    let cx = propagator.extract_with_context(&earlier, &header("01"));
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    assert!(out["traceparent"].ends_with("-01"), "{out:?}");
}
