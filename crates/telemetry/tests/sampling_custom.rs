//! The book's own samplers: rate-limited, adaptive and rule-based.
//! Time is a fake clock advanced by the test; nothing sleeps.

use std::time::Duration;

use book_results::{Measurement, record};
use std::sync::{Arc, Mutex};

use governor::clock::Clock;
use opentelemetry::trace::{
    Link, Span, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use otlp_csp_telemetry::sampling::mutants::{NoThreshold, SdkRatioRule};
use otlp_csp_telemetry::sampling::{
    Adaptive, FakeRelativeClock, Match, RateLimited, RuleBased,
    recorded_probability, rejection_threshold, th_value,
};
use proptest::prelude::*;

/// splitmix64: a small, seeded source of trace ids, so runs repeat exactly.
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> TraceId {
        let mut word = || {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        TraceId::from((u128::from(word()) << 64) | u128::from(word()) | 1)
    }
}

fn root(sampler: &dyn ShouldSample, trace_id: TraceId) -> bool {
    sampler
        .should_sample(None, trace_id, "op", &SpanKind::Server, &[], &[])
        .decision
        == SamplingDecision::RecordAndSample
}

fn parent(trace_id: TraceId, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        trace_id,
        SpanId::from(9u64),
        flags,
        true,
        TraceState::default(),
    ))
}

fn child(sampler: &dyn ShouldSample, parent: &Context) -> bool {
    let trace_id = parent.span().span_context().trace_id();
    sampler
        .should_sample(Some(parent), trace_id, "op", &SpanKind::Internal, &[], &[])
        .decision
        == SamplingDecision::RecordAndSample
}

// --- RateLimited -----------------------------------------------------------

/// 1000 roots a second for ten seconds against a limit of 10 a second: the
/// bucket lets through its burst of 10 at once and then one every 100 ms, so
/// every one-second window after the first holds exactly 10, and the total
/// over `T` seconds is between `10 T` and `10 (T + 1)`.
#[test]
fn rate_limited_caps_sampled_roots_per_second() {
    const LIMIT: u64 = 10;
    const LOAD: u64 = 1_000;
    const SECONDS: u64 = 10;
    let clock = FakeRelativeClock::default();
    let sampler = RateLimited::with_clock(LIMIT as u32, clock.clone()).unwrap();
    let mut ids = Ids(1);
    let mut per_second = Vec::new();
    for _ in 0..SECONDS {
        let mut sampled = 0;
        for _ in 0..LOAD {
            sampled += u64::from(root(&sampler, ids.next()));
            clock.advance(Duration::from_secs(1) / LOAD as u32);
        }
        per_second.push(sampled);
    }
    let total: u64 = per_second.iter().sum();
    assert!(
        (LIMIT * SECONDS..=LIMIT * (SECONDS + 1)).contains(&total),
        "{per_second:?}"
    );
    assert!(
        per_second[1..].iter().all(|n| *n == LIMIT),
        "{per_second:?}"
    );
    record(
        "ch11_rate_limited",
        vec![
            Measurement::count(
                "ch11_rate_limited/offered_per_s",
                LOAD as f64,
                "roots/s",
            ),
            Measurement::count(
                "ch11_rate_limited/limit_per_s",
                LIMIT as f64,
                "traces/s",
            ),
            Measurement::count(
                "ch11_rate_limited/sampled_first_s",
                per_second[0] as f64,
                "traces",
            ),
            Measurement::count(
                "ch11_rate_limited/sampled_total",
                total as f64,
                format!("traces in {SECONDS} s"),
            ),
        ],
    )
    .unwrap();
}

/// Children follow their parent and take no tokens, so a sampled trace is
/// never cut short by the limit and an unsampled one never grows children.
#[test]
fn rate_limited_children_follow_the_parent_and_cost_nothing() {
    let sampler = RateLimited::with_clock(1, FakeRelativeClock::default()).unwrap();
    let mut ids = Ids(2);
    let first = ids.next();
    assert!(root(&sampler, first), "the one token");
    let kept = parent(first, true);
    assert!(
        (0..100).all(|_| child(&sampler, &kept)),
        "children of a kept root"
    );
    assert!(
        !root(&sampler, ids.next()),
        "no token left for a second root"
    );
    let dropped = parent(ids.next(), false);
    assert!((0..100).all(|_| !child(&sampler, &dropped)));
}

#[test]
fn rate_limited_rejects_a_zero_limit() {
    let err = RateLimited::per_second(0).unwrap_err();
    assert_eq!(err.what, "traces per second");
    assert!(err.to_string().contains("at least 1"), "{err}");
}

/// Offers a root every `spacing` for `seconds` seconds and returns when each
/// kept root arrived, in nanoseconds from the start.
fn admissions(
    sampler: &dyn ShouldSample,
    clock: &FakeRelativeClock,
    spacing: Duration,
    seconds: u64,
) -> Vec<u64> {
    let mut ids = Ids(7);
    let step = spacing.as_nanos() as u64;
    (0..seconds * 1_000_000_000 / step)
        .filter(|_| {
            let kept = root(sampler, ids.next());
            clock.advance(spacing);
            kept
        })
        .map(|i| i * step)
        .collect()
}

/// The check on how a limit of `n` roots a second with a burst of `burst`
/// spreads what it keeps, when roots arrive every `spacing` (much faster
/// than `n` a second) for `seconds` s: after the first `burst` kept roots,
/// consecutive kept roots are `1/n` s apart within one `spacing`, so no
/// window of `1/n` s after the burst holds two; and `n` a second in all,
/// plus at most the burst.
fn spread_one_per_interval(
    kept: &[u64],
    n: u64,
    burst: usize,
    spacing: Duration,
    seconds: u64,
) -> Result<(), String> {
    let total = kept.len() as u64;
    if !(n * seconds..=n * seconds + burst as u64).contains(&total) {
        return Err(format!("{total} kept in {seconds} s at {n}/s"));
    }
    let interval = 1_000_000_000 / n;
    let slack = spacing.as_nanos() as u64;
    for pair in kept[burst.min(kept.len())..].windows(2) {
        let gap = pair[1] - pair[0];
        if gap.abs_diff(interval) > slack {
            return Err(format!(
                "kept at {} ns and {} ns: {gap} ns apart, not {interval}",
                pair[0], pair[1]
            ));
        }
    }
    Ok(())
}

/// The planted bug for that check: a fixed window that keeps the first `n`
/// roots of each calendar second, the behaviour the chapter once ascribed
/// to the rate limiter.
#[derive(Clone, Debug)]
struct FirstNEachSecond {
    n: u64,
    clock: FakeRelativeClock,
    /// (the second being counted, roots kept in it)
    window: Arc<Mutex<(u64, u64)>>,
}

impl ShouldSample for FirstNEachSecond {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let second = self.clock.now().as_u64() / 1_000_000_000;
        let mut window = self.window.lock().unwrap();
        if window.0 != second {
            *window = (second, 0);
        }
        let keep = window.1 < self.n;
        window.1 += u64::from(keep);
        let decision = if keep {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: parent
                .map(|cx| cx.span().span_context().trace_state().clone())
                .unwrap_or_default(),
        }
    }
}

/// 1000 roots a second for 3 s against 10 a second: governor's GCRA keeps
/// its burst of 10 (`Quota::per_second` sets the burst to the rate) and then
/// one root every 100 ms, not the first 10 of each second.
#[test]
fn rate_limited_spreads_what_it_keeps() {
    const N: u64 = 10;
    let spacing = Duration::from_millis(1);
    let clock = FakeRelativeClock::default();
    let sampler = RateLimited::with_clock(N as u32, clock.clone()).unwrap();
    let kept = admissions(&sampler, &clock, spacing, 3);
    spread_one_per_interval(&kept, N, N as usize, spacing, 3).unwrap();
}

/// The same check rejects a limiter that keeps the first 10 of each second.
#[test]
fn the_spread_check_rejects_a_fixed_window() {
    const N: u64 = 10;
    let spacing = Duration::from_millis(1);
    let clock = FakeRelativeClock::default();
    let sampler = FirstNEachSecond {
        n: N,
        clock: clock.clone(),
        window: Arc::new(Mutex::new((0, 0))),
    };
    let kept = admissions(&sampler, &clock, spacing, 3);
    assert_eq!(kept.len(), 30, "the planted limiter keeps 10 a second");
    let err = spread_one_per_interval(&kept, N, N as usize, spacing, 3).unwrap_err();
    assert!(err.contains("1000000 ns apart"), "{err}");
}

/// A rate-limited root records no sampling probability: its chance of being
/// kept is not known when it is decided.
#[test]
fn rate_limited_records_no_probability() {
    let sampler = RateLimited::with_clock(1, FakeRelativeClock::default()).unwrap();
    let r = sampler.should_sample(
        None,
        Ids(8).next(),
        "op",
        &SpanKind::Server,
        &[],
        &[],
    );
    assert_eq!(r.decision, SamplingDecision::RecordAndSample);
    assert_eq!(r.trace_state.get("ot"), None);
    assert_eq!(recorded_probability(&r.trace_state), None);
}

// --- Adaptive --------------------------------------------------------------

/// Offers `load` roots a second, evenly spaced, for `seconds` seconds and
/// returns, for each second, how many were sampled and the ratio in force.
fn drive(
    sampler: &Adaptive<FakeRelativeClock>,
    clock: &FakeRelativeClock,
    ids: &mut Ids,
    load: u32,
    seconds: usize,
) -> Vec<(u64, f64)> {
    (0..seconds)
        .map(|_| {
            let (mut sampled, mut ratio) = (0, 0.0);
            for i in 0..load {
                sampled += u64::from(root(sampler, ids.next()));
                if i == 0 {
                    // The first root of a second closes the previous one.
                    ratio = sampler.state().ratio;
                }
                clock.advance(Duration::from_secs(1) / load);
            }
            (sampled, ratio)
        })
        .collect()
}

/// The target is 1000 sampled traces a second; the load steps from 10 000
/// to 100 000 roots a second and back down to 10 000. With smoothing 0.5 the
/// deterministic error left `k` intervals after a tenfold step is a factor
/// `1 / (1 + 9 * 0.5^k)` (down) or `1 / (1 - 0.9 * 0.5^k)` (up): under 4 %
/// from `k = 8`. Binomial noise on ~1000 per second adds a standard
/// deviation of about 32 a second. The asserted bounds, for each phase from
/// its 8th second on: the mean within 10 % of the target, each second
/// within 25 %.
#[test]
fn adaptive_holds_the_target_through_load_steps() {
    const TARGET: f64 = 1_000.0;
    const SETTLE: usize = 8;
    let clock = FakeRelativeClock::default();
    let sampler = Adaptive::with_clock(TARGET, clock.clone()).unwrap();
    let mut ids = Ids(3);
    let phases = [(10_000u32, 20usize), (100_000, 20), (10_000, 20)];
    let mut measured = Vec::new();
    let mut trajectory = String::from("second  offered/s  ratio   sampled\n");
    let mut second = 0;
    for (i, (load, seconds)) in phases.into_iter().enumerate() {
        let run = drive(&sampler, &clock, &mut ids, load, seconds);
        for (s, (n, ratio)) in run.iter().enumerate() {
            if s < 10 || s == seconds - 1 {
                trajectory +=
                    &format!("{:>6}  {load:>9}  {ratio:.4}  {n:>7}\n", second + s);
            }
        }
        let sampled: Vec<u64> = run.iter().map(|(n, _)| *n).collect();
        second += seconds;
        let settled = &sampled[SETTLE..];
        let mean = settled.iter().sum::<u64>() as f64 / settled.len() as f64;
        assert!(
            (mean - TARGET).abs() <= 0.10 * TARGET,
            "phase {i} (load {load}/s): mean {mean} in {sampled:?}"
        );
        for n in settled {
            assert!(
                (*n as f64 - TARGET).abs() <= 0.25 * TARGET,
                "phase {i} (load {load}/s): {n} in {sampled:?}"
            );
        }
        measured.push(Measurement::count(
            format!("ch11_adaptive/settled_mean/phase{i}_{load}_per_s"),
            mean,
            "traces/s",
        ));
        // How far off the first second after the step was.
        if i > 0 {
            measured.push(Measurement::count(
                format!("ch11_adaptive/first_second/phase{i}_{load}_per_s"),
                sampled[0] as f64,
                "traces/s",
            ));
        }
    }
    measured.push(
        Measurement::count("ch11_adaptive/target", TARGET, "traces/s")
            .with_text(trajectory.trim_end()),
    );
    record("ch11_adaptive", measured).unwrap();
}

#[test]
fn adaptive_children_follow_the_parent() {
    let clock = FakeRelativeClock::default();
    let sampler = Adaptive::with_clock(1.0, clock.clone())
        .unwrap()
        .initial_ratio(0.0)
        .unwrap();
    let mut ids = Ids(4);
    assert!(!root(&sampler, ids.next()), "ratio 0 drops roots");
    assert!(child(&sampler, &parent(ids.next(), true)));
    assert!(!child(&sampler, &parent(ids.next(), false)));
}

#[test]
fn adaptive_samples_everything_when_load_is_below_target() {
    let clock = FakeRelativeClock::default();
    let sampler = Adaptive::with_clock(100.0, clock.clone()).unwrap();
    let run = drive(&sampler, &clock, &mut Ids(5), 50, 5);
    assert_eq!(run, vec![(50, 1.0); 5]);
    assert_eq!(sampler.state().ratio, 1.0);
}

#[test]
fn adaptive_rejects_bad_settings() {
    assert_eq!(
        Adaptive::new(0.0).unwrap_err().what,
        "target traces per second"
    );
    assert_eq!(
        Adaptive::new(f64::NAN).unwrap_err().what,
        "target traces per second"
    );
    let a = || Adaptive::new(10.0).unwrap();
    assert_eq!(a().smoothing(0.0).unwrap_err().what, "smoothing weight");
    assert_eq!(
        a().interval(Duration::ZERO).unwrap_err().what,
        "adjustment interval"
    );
    assert_eq!(a().initial_ratio(1.5).unwrap_err().what, "initial ratio");
    let shared = a();
    let _clone = shared.clone();
    assert!(
        shared.smoothing(0.3).is_err(),
        "settings are fixed once shared"
    );
}

// --- The probability in the tracestate ------------------------------------

const TWO_56: f64 = (1u64 << 56) as f64;

/// The rejection threshold a `tracestate` records, read as the specification
/// defines it (written here apart from the library's reader): the `th`
/// sub-key of the `ot` entry, 1 to 14 hex digits, padded on the right with
/// zeros to 14.
fn recorded_threshold(state: &TraceState) -> Option<u64> {
    let th = state
        .get("ot")?
        .split(';')
        .find_map(|kv| kv.strip_prefix("th:"))?;
    if !(1..=14).contains(&th.len()) {
        return None;
    }
    u64::from_str_radix(&format!("{th:0<14}"), 16).ok()
}

fn low_56_bits(trace_id: TraceId) -> u64 {
    u128::from_be_bytes(trace_id.to_bytes()) as u64 & ((1 << 56) - 1)
}

/// The check on the recorded probability. Offers `sampler` (which decides
/// with `adaptive`'s ratio) each second's roots from `loads`, evenly spaced,
/// and requires for every root: a kept one records `th` whose probability
/// `(2^56 - th) / 2^56` is the ratio in force, and its trace id's low 56 bits
/// are at least `th` (the decision is the rule `th` describes); a dropped
/// one's bits are below the threshold of the ratio. Returns the offered
/// count and the back end's estimate of it, the sum of `1 / p` over kept
/// roots.
fn records_its_probability(
    sampler: &dyn ShouldSample,
    adaptive: &Adaptive<FakeRelativeClock>,
    clock: &FakeRelativeClock,
    loads: &[u32],
) -> Result<(u64, f64), String> {
    let mut ids = Ids(9);
    let (mut offered, mut estimate) = (0, 0.0);
    for &load in loads {
        for _ in 0..load {
            let id = ids.next();
            let r =
                sampler.should_sample(None, id, "op", &SpanKind::Server, &[], &[]);
            let p = adaptive.state().ratio;
            let bits = low_56_bits(id);
            offered += 1;
            if r.decision == SamplingDecision::RecordAndSample {
                let th = recorded_threshold(&r.trace_state).ok_or_else(|| {
                    format!("kept root {id} records no th: {:?}", r.trace_state)
                })?;
                let recorded = (TWO_56 - th as f64) / TWO_56;
                if (recorded - p).abs() > 1e-15 {
                    return Err(format!("th records {recorded}, ratio was {p}"));
                }
                if bits < th {
                    return Err(format!(
                        "kept root {id} has {bits:#x} < th {th:#x}"
                    ));
                }
                estimate += 1.0 / recorded;
            } else if bits as f64 >= (1.0 - p) * TWO_56 + 1.0 {
                return Err(format!("dropped root {id} at ratio {p}"));
            }
            clock.advance(Duration::from_secs(1) / load);
        }
    }
    Ok((offered, estimate))
}

/// 2 000 roots a second for 5 s, then 20 000 for 5 s, at a target of 1 000:
/// every decision is the rule its `th` describes, and the sum of the
/// adjusted counts `1 / p` is within 5 % of the 110 000 roots offered. Its
/// variance is the sum of `(1 - p) / p` over the roots: 2 000 a second at
/// `p` = 1 and then 1/2 for 4 s, then 20 000 a second at 1/2, 1/11, 1/15.5,
/// 1/17.75, 1/18.875 as the estimate of the load climbs: about 1.2
/// million, a standard deviation of about 1 100 (1 %).
#[test]
fn adaptive_records_the_probability_of_each_kept_root() {
    let clock = FakeRelativeClock::default();
    let adaptive = Adaptive::with_clock(1_000.0, clock.clone()).unwrap();
    let loads = [[2_000; 5], [20_000; 5]].concat();
    let (offered, estimate) =
        records_its_probability(&adaptive, &adaptive, &clock, &loads).unwrap();
    assert!(
        (estimate - offered as f64).abs() <= 0.05 * offered as f64,
        "estimated {estimate} of {offered}"
    );
    assert!(adaptive.state().ratio < 0.1, "the run did sample");
}

/// Planted bug: the sampler without the `th` entry.
#[test]
fn the_probability_check_rejects_a_sampler_that_records_none() {
    let clock = FakeRelativeClock::default();
    let adaptive = Adaptive::with_clock(1_000.0, clock.clone()).unwrap();
    let planted = NoThreshold(adaptive.clone());
    let err = records_its_probability(&planted, &adaptive, &clock, &[2_000; 3])
        .unwrap_err();
    assert!(err.contains("records no th"), "{err}");
}

/// Planted bug: `th` written, but the decision made by the SDK's ratio rule
/// (the sampler before it recorded anything), which `th` does not describe.
#[test]
fn the_probability_check_rejects_a_threshold_the_decision_does_not_follow() {
    let clock = FakeRelativeClock::default();
    let adaptive = Adaptive::with_clock(1_000.0, clock.clone()).unwrap();
    let planted = SdkRatioRule(adaptive.clone());
    let err = records_its_probability(&planted, &adaptive, &clock, &[2_000; 3])
        .unwrap_err();
    assert!(
        err.contains("< th") || err.contains("dropped root"),
        "{err}"
    );
}

/// A child follows its parent and carries the root's `ot` entry on.
#[test]
fn adaptive_children_carry_the_roots_threshold() {
    let provider = SdkTracerProvider::builder()
        .with_sampler(
            Adaptive::with_clock(1.0, FakeRelativeClock::default()).unwrap(),
        )
        .build();
    let tracer = provider.tracer("test");
    let root = tracer.start("root");
    assert!(
        root.span_context().is_sampled(),
        "the first interval keeps all"
    );
    assert_eq!(root.span_context().trace_state().get("ot"), Some("th:0"));
    let cx = Context::current_with_span(root);
    let child = tracer.start_with_context("child", &cx);
    assert_eq!(child.span_context().trace_state().get("ot"), Some("th:0"));
}

/// The specification's examples: probability 1, 1/2, 1/4, 1/8, 1/16 and the
/// smallest, 2^-56; below that nothing can be recorded and nothing is kept.
#[test]
fn thresholds_encode_as_the_specification_shows() {
    let th = |p: f64| rejection_threshold(p).map(th_value);
    assert_eq!(th(1.0).as_deref(), Some("0"));
    assert_eq!(th(0.5).as_deref(), Some("8"));
    assert_eq!(th(0.25).as_deref(), Some("c"));
    assert_eq!(th(0.125).as_deref(), Some("e"));
    assert_eq!(th(0.0625).as_deref(), Some("f"));
    assert_eq!(th(TWO_56.recip()).as_deref(), Some("ffffffffffffff"));
    assert_eq!(th(TWO_56.recip() / 4.0), None);
    assert_eq!(th(0.0), None);
    assert_eq!(th(f64::NAN), None);
    assert_eq!(th(2.0).as_deref(), Some("0"));
    // 1 %: the specification gives `fd70a4` at 5 digits; this is all 14.
    assert!(th(0.01).unwrap().starts_with("fd70a3d70a3d7"));
}

proptest! {
    /// The recorded threshold reads back as the probability, to within the
    /// rounding to a multiple of 2^-56, with this test's reader and the
    /// library's.
    #[test]
    fn thresholds_round_trip(p in 1e-15f64..=1.0) {
        let t = rejection_threshold(p).unwrap();
        let ot = format!("th:{}", th_value(t));
        let state = TraceState::from_key_value([("ot", ot)]).unwrap();
        prop_assert_eq!(recorded_threshold(&state), Some(t));
        let back = recorded_probability(&state).unwrap();
        prop_assert!((back - p).abs() <= TWO_56.recip(), "{p} -> {back}");
    }
}

// --- RuleBased -------------------------------------------------------------

fn rules() -> RuleBased {
    RuleBased::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .rule(Match::name("GET /health"), Sampler::AlwaysOff)
        .rule(Match::name_prefix("internal."), Sampler::AlwaysOff)
        .rule(
            Match::attribute("http.route", "/debug"),
            Sampler::TraceIdRatioBased(0.0),
        )
}

fn decide(sampler: &dyn ShouldSample, name: &str, attributes: &[KeyValue]) -> bool {
    sampler
        .should_sample(
            None,
            Ids(6).next(),
            name,
            &SpanKind::Server,
            attributes,
            &[],
        )
        .decision
        == SamplingDecision::RecordAndSample
}

#[test]
fn rule_based_drops_matching_roots_and_delegates_the_rest() {
    let s = rules();
    assert!(!decide(&s, "GET /health", &[]));
    assert!(!decide(&s, "internal.gc", &[]));
    assert!(!decide(
        &s,
        "GET /x",
        &[KeyValue::new("http.route", "/debug")]
    ));
    assert!(decide(
        &s,
        "GET /x",
        &[KeyValue::new("http.route", "/orders")]
    ));
    assert!(decide(&s, "GET /healthz", &[]), "exact names are exact");
}

/// Through a real provider: the rule sees the attributes given at start.
#[test]
fn rule_based_in_a_provider() {
    let provider = SdkTracerProvider::builder().with_sampler(rules()).build();
    let tracer = provider.tracer("test");
    assert!(!tracer.start("GET /health").span_context().is_sampled());
    let debug = tracer
        .span_builder("GET /x")
        .with_attributes([KeyValue::new("http.route", "/debug")])
        .start(&tracer);
    assert!(!debug.span_context().is_sampled());
    let kept = Context::current_with_span(tracer.start("GET /orders"));
    // A child named like a dropped root still follows its parent.
    let health_child = tracer.start_with_context("GET /health", &kept);
    assert!(health_child.span_context().is_sampled());
}

proptest! {
    /// A root no rule matches gets exactly the fallback's decision.
    #[test]
    fn rule_based_without_a_match_is_the_fallback(name in "[a-z /]{0,20}", seed in any::<u64>(), p in 0.0f64..=1.0) {
        prop_assume!(name != "GET /health" && !name.starts_with("internal."));
        let fallback = Sampler::TraceIdRatioBased(p);
        let s = RuleBased::new(fallback.clone())
            .rule(Match::name("GET /health"), Sampler::AlwaysOff)
            .rule(Match::name_prefix("internal."), Sampler::AlwaysOff);
        let id = Ids(seed).next();
        let d = |x: &dyn ShouldSample| x.should_sample(None, id, &name, &SpanKind::Server, &[], &[]).decision;
        prop_assert_eq!(d(&s), d(&fallback));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// For any arrival pattern, any window between two kept roots `t` seconds
    /// apart holds at most `n * (1 + t)` kept roots: the token bucket's bound.
    #[test]
    fn rate_limited_never_exceeds_its_bound(
        n in 1u32..50,
        gaps in proptest::collection::vec(0u64..200_000_000, 1..400),
    ) {
        let clock = FakeRelativeClock::default();
        let sampler = RateLimited::with_clock(n, clock.clone()).unwrap();
        let mut ids = Ids(u64::from(n));
        let (mut now, mut kept) = (0u64, Vec::new());
        for gap in gaps {
            clock.advance(Duration::from_nanos(gap));
            now += gap;
            if root(&sampler, ids.next()) {
                kept.push(now);
            }
        }
        for i in 0..kept.len() {
            for j in i..kept.len() {
                let t = (kept[j] - kept[i]) as f64 / 1e9;
                let count = (j - i + 1) as f64;
                prop_assert!(count <= f64::from(n) * (1.0 + t) + 1e-6, "{count} kept in {t} s, limit {n}");
            }
        }
    }
}
