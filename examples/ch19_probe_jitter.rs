//! Breakers that opened together probe together, unless their cool-downs
//! are jittered. Eight callers of one peer each hold a breaker; the peer
//! fails them all at t = 0; each then asks every 10 ms until its breaker
//! admits a probe. Printed: when the probes reach the recovering peer.

use std::time::Duration;

use otlp_csp::resilience::{BreakerConfig, CircuitBreaker};

// ANCHOR: probes
/// The moment each of `callers` breakers admits its first probe, when all
/// opened at t = 0 with `config`. Breaker i draws its jitter from seed i.
fn probe_times(config: BreakerConfig, callers: u64) -> Vec<Duration> {
    let tick = Duration::from_millis(10);
    (1..=callers)
        .map(|seed| {
            let mut breaker = CircuitBreaker::with_seed(config, seed);
            let call = breaker.try_acquire(Duration::ZERO).expect("closed");
            breaker.on_failure(call, Duration::ZERO); // threshold 1: opens
            let mut now = Duration::ZERO;
            while breaker.try_acquire(now).is_err() {
                now += tick;
            }
            now
        })
        .collect()
}
// ANCHOR_END: probes

/// The most probes that arrive within any `window`.
fn busiest(times: &[Duration], window: Duration) -> usize {
    times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + window)
        })
        .map(Iterator::count)
        .max()
        .unwrap_or(0)
}

fn main() {
    let config = BreakerConfig::new(1, Duration::from_secs(1), 1).expect("valid");
    for (what, config) in [
        ("no jitter", config),
        ("50 % jitter", config.with_jitter(50).expect("valid")),
    ] {
        let mut times = probe_times(config, 8);
        times.sort();
        let ms = |d: &Duration| d.as_millis();
        println!(
            "cool-down 1 s, {what:<12} 8 probes from {} ms to {} ms, \
             {} in the busiest 50 ms",
            ms(&times[0]),
            ms(&times[7]),
            busiest(&times, Duration::from_millis(50))
        );
    }
}
