//! Head samplers beyond the SDK's built-in ones, each behind the SDK's
//! [`ShouldSample`] trait so a provider takes them like any other sampler:
//!
//! - [`RateLimited`]: at most `n` new traces a second (a token bucket);
//! - [`Adaptive`]: a trace-id ratio re-tuned every interval so that the
//!   number of sampled traces a second stays near a target as load changes;
//! - [`RuleBased`]: rules on a root span's name or attributes (for example,
//!   never sample `GET /health`), falling back to a delegate sampler.
//!
//! All three decide only for *root* spans. A span whose parent is valid
//! follows its parent's sampled flag, so a trace is kept whole or not at all:
//! the rate limit counts traces, not spans.
//!
//! [`Adaptive`] records the probability it kept a root with in the root's
//! `tracestate`, as the specification's *TraceState: Probability Sampling*
//! defines it (`ot=th:` and a 56-bit rejection threshold; see
//! [`rejection_threshold`]), so a back end can count what was dropped.
//! [`RateLimited`] records none: its chance of keeping a root is not known
//! when it decides.
//!
//! The two samplers that depend on time take a [`governor`] clock, so tests
//! drive them with [`FakeRelativeClock`] instead of sleeping.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use opentelemetry::trace::{
    Link, SpanId, SpanKind, TraceContextExt, TraceId, TraceState,
};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::trace::{
    IdGenerator, SamplingDecision, SamplingResult, ShouldSample,
};

pub use governor::clock::FakeRelativeClock;

/// A sampler was configured with a value that cannot work.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("bad sampler setting: {what} must be {expected}, got {got}")]
pub struct SamplerError {
    /// The setting at fault, e.g. `traces per second`.
    pub what: &'static str,
    /// What it must be.
    pub expected: &'static str,
    /// The value given, as text.
    pub got: String,
}

/// `Some(sampled)` when `parent` holds a valid span context, `None` for a root.
/// This is the specification's notion of "has a parent" (an invalid parent
/// context counts as no parent).
pub fn parent_sampled(parent: Option<&Context>) -> Option<bool> {
    let cx = parent?;
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.is_sampled())
}

fn result(decision: SamplingDecision, parent: Option<&Context>) -> SamplingResult {
    SamplingResult {
        decision,
        attributes: Vec::new(),
        // Samplers must pass the parent's trace state on unchanged unless they own a key in it.
        trace_state: match parent {
            Some(cx) => cx.span().span_context().trace_state().clone(),
            None => TraceState::default(),
        },
    }
}

fn keep(sampled: bool) -> SamplingDecision {
    if sampled {
        SamplingDecision::RecordAndSample
    } else {
        SamplingDecision::Drop
    }
}

// ---------------------------------------------------------------------------
// RateLimited
// ---------------------------------------------------------------------------

type Limiter<C> =
    RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Samples at most `per_second` new traces a second, with bursts of up to
/// `per_second` at once; a child span follows its parent.
///
/// The budget is a token bucket (governor's GCRA, `Quota::per_second`): it
/// holds `per_second` tokens, gains one every `1 / per_second` s (a steady
/// refill, not `per_second` at the start of each second), and every sampled
/// root takes one. So in any window of `t` seconds at most
/// `per_second * (1 + t)` roots are sampled, and under steady overload,
/// once the first burst is spent, one root every `1 / per_second` s.
/// Clones share one budget.
///
/// It records no sampling probability in the `tracestate`: whether a root
/// is kept depends on when it and the roots before it arrived, and that
/// chance is not known when the root is decided.
pub struct RateLimited<C: Clock = DefaultClock> {
    limiter: Arc<Limiter<C>>,
    per_second: u32,
}

impl RateLimited {
    /// A limit of `per_second` sampled traces a second on the monotonic clock.
    pub fn per_second(per_second: u32) -> Result<Self, SamplerError> {
        Self::with_clock(per_second, DefaultClock::default())
    }
}

impl<C: Clock> RateLimited<C> {
    /// Like [`RateLimited::per_second`], reading time from `clock`.
    pub fn with_clock(per_second: u32, clock: C) -> Result<Self, SamplerError> {
        let n = NonZeroU32::new(per_second).ok_or_else(|| SamplerError {
            what: "traces per second",
            expected: "at least 1",
            got: per_second.to_string(),
        })?;
        Ok(Self {
            limiter: Arc::new(RateLimiter::direct_with_clock(
                Quota::per_second(n),
                clock,
            )),
            per_second,
        })
    }

    /// The configured limit.
    pub fn limit(&self) -> u32 {
        self.per_second
    }
}

impl<C: Clock> Clone for RateLimited<C> {
    fn clone(&self) -> Self {
        Self {
            limiter: Arc::clone(&self.limiter),
            per_second: self.per_second,
        }
    }
}

impl<C: Clock> fmt::Debug for RateLimited<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimited")
            .field("per_second", &self.per_second)
            .finish_non_exhaustive()
    }
}

// ANCHOR: rate_limited
impl<C> ShouldSample for RateLimited<C>
where
    C: Clock + Send + Sync + 'static,
    C::Instant: Send + Sync,
{
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let sampled = match parent_sampled(parent_context) {
            Some(parent) => parent,
            None => self.limiter.check().is_ok(),
        };
        result(keep(sampled), parent_context)
    }
}
// ANCHOR_END: rate_limited

// ---------------------------------------------------------------------------
// Adaptive
// ---------------------------------------------------------------------------

/// A trace-id ratio sampler that re-tunes its ratio every interval to keep
/// about `target` sampled traces a second, whatever the load.
///
/// The control rule, applied at the end of each interval `k` of length `T`
/// in which `n_k` root spans asked for a decision:
///
/// ```text
/// rate_k   = n_k / T                                  (observed roots a second)
/// est_k    = rate_k                                   (first interval)
///          = a * rate_k + (1 - a) * est_{k-1}         (later intervals)
/// ratio    = min(1, target / est_k)                   (used during interval k+1)
/// ```
///
/// `a` is the smoothing weight (default 0.5). After a step change of load
/// from `L0` to `L1`, the estimate approaches `L1` geometrically,
/// `est_k - L1 = (1 - a)^k (L0 - L1)`, so the sampled rate
/// `target * L1 / est_k` converges to the target; a rise in load overshoots
/// for a few intervals, a fall undershoots for a few more. Until the first
/// interval ends the ratio is `initial_ratio` (default 1: everything).
///
/// Each root is decided by the specification's consistent probability rule
/// with the current ratio `p`: keep it if the low 56 bits of its trace id
/// are at least the rejection threshold of `p` ([`rejection_threshold`]),
/// and record that threshold in its `tracestate` as `ot=th:...`
/// ([`th_value`]). A child span follows its parent and carries the root's
/// `tracestate` on. Clones share one state.
pub struct Adaptive<C: Clock = DefaultClock> {
    inner: Arc<AdaptiveInner<C>>,
}

struct AdaptiveInner<C: Clock> {
    clock: C,
    start: C::Instant,
    target: f64,
    interval: Duration,
    smoothing: f64,
    /// The current ratio, as `f64` bits.
    ratio: AtomicU64,
    /// Roots seen since the window started.
    seen: AtomicU64,
    /// Nanoseconds since `start` at which the current window ends.
    window_end: AtomicU64,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: u64,
    estimate: Option<f64>,
}

/// A snapshot of an [`Adaptive`] sampler's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveState {
    /// The ratio now in force.
    pub ratio: f64,
    /// The smoothed estimate of roots a second, once one interval has ended.
    pub estimated_rate: Option<f64>,
}

impl Adaptive {
    /// Aims at `target` sampled traces a second, on the monotonic clock,
    /// re-tuning every second.
    pub fn new(target: f64) -> Result<Self, SamplerError> {
        Self::with_clock(target, DefaultClock::default())
    }
}

impl<C: Clock> Adaptive<C> {
    /// Like [`Adaptive::new`], reading time from `clock`.
    pub fn with_clock(target: f64, clock: C) -> Result<Self, SamplerError> {
        if !(target.is_finite() && target > 0.0) {
            return Err(SamplerError {
                what: "target traces per second",
                expected: "a positive number",
                got: target.to_string(),
            });
        }
        let start = clock.now();
        let interval = Duration::from_secs(1);
        Ok(Self {
            inner: Arc::new(AdaptiveInner {
                clock,
                start,
                target,
                interval,
                smoothing: 0.5,
                ratio: AtomicU64::new(1.0f64.to_bits()),
                seen: AtomicU64::new(0),
                window_end: AtomicU64::new(nanos(interval)),
                window: Mutex::new(Window {
                    started: 0,
                    estimate: None,
                }),
            }),
        })
    }

    /// Sets the interval between adjustments (default one second).
    pub fn interval(self, interval: Duration) -> Result<Self, SamplerError> {
        if interval.is_zero() {
            return Err(SamplerError {
                what: "adjustment interval",
                expected: "longer than zero",
                got: format!("{interval:?}"),
            });
        }
        self.rebuild(|inner| {
            inner.interval = interval;
            inner.window_end = AtomicU64::new(nanos(interval));
        })
    }

    /// Sets the smoothing weight `a` of the newest interval, in (0, 1] (default 0.5).
    /// 1 reacts fastest and is noisiest.
    pub fn smoothing(self, weight: f64) -> Result<Self, SamplerError> {
        if !(weight > 0.0 && weight <= 1.0) {
            return Err(SamplerError {
                what: "smoothing weight",
                expected: "in (0, 1]",
                got: weight.to_string(),
            });
        }
        self.rebuild(|inner| inner.smoothing = weight)
    }

    /// Sets the ratio used before the first interval ends (default 1).
    pub fn initial_ratio(self, ratio: f64) -> Result<Self, SamplerError> {
        if !(0.0..=1.0).contains(&ratio) {
            return Err(SamplerError {
                what: "initial ratio",
                expected: "a probability between 0 and 1",
                got: ratio.to_string(),
            });
        }
        self.rebuild(|inner| inner.ratio = AtomicU64::new(ratio.to_bits()))
    }

    fn rebuild(
        self,
        change: impl FnOnce(&mut AdaptiveInner<C>),
    ) -> Result<Self, SamplerError> {
        // Settings are only changed while building, before any clone exists.
        let mut inner = Arc::try_unwrap(self.inner).map_err(|_| SamplerError {
            what: "Adaptive settings",
            expected: "changed before the sampler is cloned",
            got: "a shared sampler".into(),
        })?;
        change(&mut inner);
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The ratio and load estimate now.
    pub fn state(&self) -> AdaptiveState {
        let estimate = self
            .inner
            .window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .estimate;
        AdaptiveState {
            ratio: f64::from_bits(self.inner.ratio.load(Ordering::Acquire)),
            estimated_rate: estimate,
        }
    }

    // ANCHOR: adaptive
    /// The ratio to use for a root span arriving now; ends the window if it is over.
    fn ratio_now(&self) -> f64 {
        let inner = &*self.inner;
        let now = nanos(inner.clock.now().duration_since(inner.start).into());
        // One caller closes an ended window; the others keep the ratio in force.
        if now >= inner.window_end.load(Ordering::Acquire)
            && let Ok(mut window) = inner.window.try_lock()
            && now >= inner.window_end.load(Ordering::Acquire)
        {
            let seen = inner.seen.swap(0, Ordering::AcqRel);
            let observed = seen as f64 / ((now - window.started) as f64 / 1e9);
            let estimate = match window.estimate {
                None => observed,
                Some(previous) => {
                    inner.smoothing * observed + (1.0 - inner.smoothing) * previous
                }
            };
            let ratio = if estimate > inner.target {
                inner.target / estimate
            } else {
                1.0
            };
            inner.ratio.store(ratio.to_bits(), Ordering::Release);
            window.estimate = Some(estimate);
            window.started = now;
            let end = now + nanos(inner.interval);
            inner.window_end.store(end, Ordering::Release);
        }
        inner.seen.fetch_add(1, Ordering::AcqRel);
        f64::from_bits(inner.ratio.load(Ordering::Acquire))
    }
    // ANCHOR_END: adaptive
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl<C: Clock> Clone for Adaptive<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C: Clock> fmt::Debug for Adaptive<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adaptive")
            .field("target", &self.inner.target)
            .field("interval", &self.inner.interval)
            .field("smoothing", &self.inner.smoothing)
            .field("state", &self.state())
            .finish()
    }
}

// ANCHOR: adaptive_decide
impl<C> ShouldSample for Adaptive<C>
where
    C: Clock + Send + Sync + 'static,
    C::Instant: Send + Sync,
{
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        if let Some(parent) = parent_sampled(parent_context) {
            return result(keep(parent), parent_context);
        }
        let threshold = rejection_threshold(self.ratio_now());
        match threshold {
            Some(t) if randomness(trace_id) >= t => {
                let mut kept = result(keep(true), parent_context);
                // `th` holds the threshold; a state full of other vendors'
                // entries that refuses it is left as it is.
                let th = format!("th:{}", th_value(t));
                if let Ok(state) = kept.trace_state.insert("ot", th) {
                    kept.trace_state = state;
                }
                kept
            }
            _ => result(keep(false), parent_context),
        }
    }
}
// ANCHOR_END: adaptive_decide

// ---------------------------------------------------------------------------
// Probability in the tracestate
// ---------------------------------------------------------------------------

/// 2^56: rejection thresholds and a trace's randomness are 56-bit numbers.
pub const THRESHOLD_SCALE: u64 = 1 << 56;

// ANCHOR: threshold
/// The rejection threshold `T` for sampling probability `p`: a root whose
/// [`randomness`] is at least `T` is kept, so exactly `(2^56 - T) / 2^56`
/// of random trace ids are, `p` rounded to the nearest multiple of `2^-56`.
/// `None` when that rounds to zero: keep nothing (the specification has no
/// probability 0). A `p` above 1 counts as 1; below 0 or NaN, as 0.
pub fn rejection_threshold(p: f64) -> Option<u64> {
    // Exact in f64: `p` times a power of two, at most 2^56.
    let kept = (p.clamp(0.0, 1.0) * THRESHOLD_SCALE as f64).round() as u64;
    (kept > 0).then(|| THRESHOLD_SCALE - kept)
}

/// The randomness a threshold is compared with: the trace id's low 56 bits,
/// random in ids from the SDK's `RandomIdGenerator` (W3C Trace Context
/// Level 2 asks the same of any id that carries the random flag).
pub fn randomness(trace_id: TraceId) -> u64 {
    (u128::from_be_bytes(trace_id.to_bytes()) as u64) & (THRESHOLD_SCALE - 1)
}

/// `T` as a `th` value: 14 hex digits with the trailing zeros dropped, and
/// `0` for `T = 0` (keep everything). `th_value(0xc0 << 48)` is `c`: 1/4.
pub fn th_value(threshold: u64) -> String {
    let digits = format!("{threshold:014x}");
    match digits.trim_end_matches('0') {
        "" => "0".to_owned(),
        d => d.to_owned(),
    }
}
// ANCHOR_END: threshold

/// The sampling probability a span's `tracestate` records in its `ot` entry
/// (`th`, 1 to 14 hex digits), or `None` if it records none or a malformed
/// one. Its inverse is the number of roots the span stands for.
pub fn recorded_probability(state: &TraceState) -> Option<f64> {
    let th = state
        .get("ot")?
        .split(';')
        .find_map(|kv| kv.strip_prefix("th:"))?;
    let hex = th.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex || !(1..=14).contains(&th.len()) {
        return None;
    }
    let t = u64::from_str_radix(th, 16).ok()? << (4 * (14 - th.len()));
    Some((THRESHOLD_SCALE - t) as f64 / THRESHOLD_SCALE as f64)
}

/// Deliberate bugs in [`Adaptive`], for the tests that show the checks of
/// `tests/sampling_custom.rs` on the recorded probability can fail.
/// Compiled only with the feature `mutants`, which only this crate's own
/// tests turn on.
#[cfg(feature = "mutants")]
pub mod mutants {
    use opentelemetry_sdk::trace::Sampler;

    use super::*;

    /// The sampler as it decides, but recording no probability: a kept
    /// root's `tracestate` has no `ot` entry.
    pub struct NoThreshold<C: Clock = DefaultClock>(pub Adaptive<C>);

    impl<C: Clock> Clone for NoThreshold<C> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    impl<C: Clock> fmt::Debug for NoThreshold<C> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_tuple("NoThreshold").field(&self.0).finish()
        }
    }

    impl<C> ShouldSample for NoThreshold<C>
    where
        C: Clock + Send + Sync + 'static,
        C::Instant: Send + Sync,
    {
        fn should_sample(
            &self,
            parent_context: Option<&Context>,
            trace_id: TraceId,
            name: &str,
            span_kind: &SpanKind,
            attributes: &[KeyValue],
            links: &[Link],
        ) -> SamplingResult {
            let mut r = self.0.should_sample(
                parent_context,
                trace_id,
                name,
                span_kind,
                attributes,
                links,
            );
            if parent_sampled(parent_context).is_none()
                && let Ok(state) = r.trace_state.delete("ot")
            {
                r.trace_state = state;
            }
            r
        }
    }

    /// Records the threshold of the ratio but decides by the SDK's
    /// `TraceIdRatioBased` rule, which reads other bits of the trace id:
    /// the recorded `th` does not describe the decision.
    pub struct SdkRatioRule<C: Clock = DefaultClock>(pub Adaptive<C>);

    impl<C: Clock> Clone for SdkRatioRule<C> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    impl<C: Clock> fmt::Debug for SdkRatioRule<C> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_tuple("SdkRatioRule").field(&self.0).finish()
        }
    }

    impl<C> ShouldSample for SdkRatioRule<C>
    where
        C: Clock + Send + Sync + 'static,
        C::Instant: Send + Sync,
    {
        fn should_sample(
            &self,
            parent_context: Option<&Context>,
            trace_id: TraceId,
            name: &str,
            span_kind: &SpanKind,
            attributes: &[KeyValue],
            links: &[Link],
        ) -> SamplingResult {
            if let Some(parent) = parent_sampled(parent_context) {
                return result(keep(parent), parent_context);
            }
            let ratio = self.0.ratio_now();
            let mut r = Sampler::TraceIdRatioBased(ratio).should_sample(
                parent_context,
                trace_id,
                name,
                span_kind,
                attributes,
                links,
            );
            if let (SamplingDecision::RecordAndSample, Some(t)) =
                (&r.decision, rejection_threshold(ratio))
                && let Ok(state) =
                    r.trace_state.insert("ot", format!("th:{}", th_value(t)))
            {
                r.trace_state = state;
            }
            r
        }
    }
}

// ---------------------------------------------------------------------------
// RuleBased
// ---------------------------------------------------------------------------

/// What a [`RuleBased`] rule looks at in a root span.
#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    /// The span name, exactly.
    Name(Cow<'static, str>),
    /// The span name starts with this.
    NamePrefix(Cow<'static, str>),
    /// An attribute given when the span started has this key and value.
    Attribute(Key, Value),
}

impl Match {
    /// Matches a span name exactly.
    pub fn name(name: impl Into<Cow<'static, str>>) -> Self {
        Self::Name(name.into())
    }

    /// Matches span names that start with `prefix`.
    pub fn name_prefix(prefix: impl Into<Cow<'static, str>>) -> Self {
        Self::NamePrefix(prefix.into())
    }

    /// Matches a start-time attribute with this key and value.
    pub fn attribute(key: impl Into<Key>, value: impl Into<Value>) -> Self {
        Self::Attribute(key.into(), value.into())
    }

    fn matches(&self, name: &str, attributes: &[KeyValue]) -> bool {
        match self {
            Self::Name(n) => name == n,
            Self::NamePrefix(p) => name.starts_with(p.as_ref()),
            Self::Attribute(key, value) => attributes
                .iter()
                .any(|kv| kv.key == *key && kv.value == *value),
        }
    }
}

/// Decides root spans by the first rule whose [`Match`] fits, and everything
/// else (roots no rule matches, and every child span) by a fallback sampler.
///
/// A sampler sees only what exists when the span starts: its name, kind,
/// and the attributes passed to the span builder. Attributes set later
/// cannot influence the decision.
#[derive(Clone, Debug)]
pub struct RuleBased {
    rules: Vec<(Match, Box<dyn ShouldSample>)>,
    fallback: Box<dyn ShouldSample>,
}

impl RuleBased {
    /// No rules yet; every span goes to `fallback`. A parent-based fallback
    /// (e.g. `Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1)))`)
    /// makes children follow the rules' decisions for their roots.
    pub fn new(fallback: impl Into<Box<dyn ShouldSample>>) -> Self {
        Self {
            rules: Vec::new(),
            fallback: fallback.into(),
        }
    }

    /// Adds a rule after the existing ones: a root span that matches `when`
    /// (and no earlier rule) is decided by `sampler`.
    pub fn rule(
        mut self,
        when: Match,
        sampler: impl Into<Box<dyn ShouldSample>>,
    ) -> Self {
        self.rules.push((when, sampler.into()));
        self
    }
}

// ANCHOR: rule_based
impl ShouldSample for RuleBased {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let sampler = if parent_sampled(parent_context).is_none() {
            self.rules
                .iter()
                .find(|(when, _)| when.matches(name, attributes))
                .map(|(_, sampler)| sampler)
                .unwrap_or(&self.fallback)
        } else {
            &self.fallback
        };
        sampler.should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}
// ANCHOR_END: rule_based

// ---------------------------------------------------------------------------
// Reproducible ids
// ---------------------------------------------------------------------------

/// An [`IdGenerator`] that draws ids from a seeded splitmix64 sequence, so a
/// program that samples by trace id makes the same decisions on every run.
/// For examples and tests: real services want the SDK's random ids.
#[derive(Debug)]
pub struct SeededIdGenerator(AtomicU64);

impl SeededIdGenerator {
    /// A sequence starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl IdGenerator for SeededIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        // Never the invalid all-zero id.
        TraceId::from(
            (u128::from(self.next()) << 64) | u128::from(self.next()) | 1 << 64,
        )
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.next() | 1)
    }
}
