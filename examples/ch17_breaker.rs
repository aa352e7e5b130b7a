//! Chapter 17: the circuit breaker on a clock the program moves by hand.
//! A backend fails for a while, the breaker opens, refuses calls during the
//! cool-down, lets one probe through, and closes when the backend is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use otlp_csp::resilience::{Breaker, BreakerConfig, CallError, Clock};

// ANCHOR: clock
/// A clock that only moves when the program says so.
#[derive(Clone, Default)]
struct Manual(Arc<AtomicU64>);

impl Clock for Manual {
    fn now(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}
// ANCHOR_END: clock

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: setup
    let clock = Manual::default();
    // Open after 3 failures in a row, for 10 s; then 1 probe at a time.
    let config = BreakerConfig::new(3, Duration::from_secs(10), 1)?;
    let breaker = Breaker::with_clock(config, clock.clone());

    // The backend is down from t = 2 s to t = 16 s.
    let backend = |t: u64| {
        if (2..16).contains(&t) {
            Err("connection refused")
        } else {
            Ok("200 OK")
        }
    };
    // ANCHOR_END: setup
    // ANCHOR: calls
    for t in [0, 2, 3, 4, 5, 13, 14, 15, 23, 24, 25] {
        clock.0.store(t, Ordering::SeqCst);
        let outcome = match breaker.try_acquire() {
            Err(rejected) => format!("rejected: {rejected}"),
            Ok(call) => {
                let probe = if call.is_probe() { " (probe)" } else { "" };
                let result = backend(t);
                let change = match result {
                    Ok(_) => call.success(),
                    Err(_) => call.failure(),
                };
                let change = change
                    .map(|c| format!(", {:?} -> {:?}", c.from, c.to))
                    .unwrap_or_default();
                match result {
                    Ok(r) => format!("called{probe}: {r}{change}"),
                    Err(e) => format!("called{probe}: {e}{change}"),
                }
            }
        };
        println!("t={t:>2}s  {outcome}");
    }
    // `call` wraps the same steps.
    let answer: Result<u32, CallError<&str>> = breaker.call(|| Ok(42));
    println!("state: {:?}, call: {answer:?}", breaker.state());
    // ANCHOR_END: calls
    Ok(())
}
