//! Deliberate bugs in [`W3cTraceContext`](super::W3cTraceContext), planted
//! with `with_planted_bug` to show that the checks of `tests/random_flag.rs`
//! can fail. Compiled only with the feature `mutants`, which only this
//! crate's own tests turn on.

/// One wrong rule of the random flag (TC2 §3.2.2.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// Inject sends only the flags of the span context, as the SDK's tracer
    /// left them: a dropped span's `00` loses a received random bit, and a
    /// trace `RandomIds` began goes out without it.
    ForgetsRandom,
    /// Inject sets the random flag for every span made in this process,
    /// including those of a trace whose id came in without it.
    ClaimsRandom,
}
