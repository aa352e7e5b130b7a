//! Chapter 3, "From Go to Rust": Go preempts a goroutine that computes
//! without stopping; tokio never preempts a task. A task that computes for
//! 50 ms without an `.await` holds its worker thread for all of it, and a
//! ticker that wants to run every millisecond waits the whole time.
//!
//! Run it with `cargo run --example ch03_starvation`. The tests (run by
//! `cargo test --workspace`) check both runs against the same rule.

use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long each kind of work computes.
const WORK: Duration = Duration::from_millis(50);

// ANCHOR: work
/// CPU work with no `.await` in it: the task keeps its thread throughout.
async fn compute() {
    let end = Instant::now() + WORK;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// The same work, handing the thread back to the scheduler at every turn.
async fn compute_yielding() {
    let end = Instant::now() + WORK;
    while Instant::now() < end {
        std::hint::spin_loop();
        tokio::task::yield_now().await;
    }
}
// ANCHOR_END: work

// ANCHOR: ticker
/// Runs `work` as a task next to a ticker that wants to run every
/// millisecond, and returns the longest the ticker waited between two runs.
async fn worst_tick_gap(
    work: impl Future<Output = ()> + Send + 'static,
) -> Duration {
    let (started_tx, started) = oneshot::channel();
    let (stop_tx, mut stop) = oneshot::channel::<()>();
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(1));
        interval.tick().await; // the first tick is immediate
        let (mut last, mut worst) = (Instant::now(), Duration::ZERO);
        let _ = started_tx.send(());
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    worst = worst.max(last.elapsed());
                    last = Instant::now();
                }
                _ = &mut stop => return worst.max(last.elapsed()),
            }
        }
    });
    started.await.expect("the ticker runs");
    tokio::spawn(work).await.expect("the work ends");
    let _ = stop_tx.send(());
    ticker.await.expect("the ticker ends")
}
// ANCHOR_END: ticker

// ANCHOR: main
/// Work that leaves the ticker waiting at least 0.8 × `WORK` starved it.
fn starved(gap: Duration) -> bool {
    gap >= WORK.mul_f64(0.8)
}

/// The rule a well-behaved task keeps: the ticker waits less than half of
/// `WORK`. The margins are wide, so a loaded machine does not flip them.
fn fair(gap: Duration) -> Result<(), String> {
    if gap < WORK / 2 {
        Ok(())
    } else {
        Err(format!("the ticker waited {gap:?} for {WORK:?} of work"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let gap = worst_tick_gap(compute()).await;
    let ms = gap.as_millis();
    println!("{WORK:?} of work, no .await: the ticker waited up to {ms}ms");
    println!("  at least 0.8 × the work: {}", starved(gap));
    let gap = worst_tick_gap(compute_yielding()).await;
    let ms = gap.as_millis();
    println!("{WORK:?} of work, yield_now(): the ticker waited up to {ms}ms");
    println!("  under half the work: {}", fair(gap).is_ok());
}
// ANCHOR_END: main

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn work_without_await_starves_the_ticker() {
        let gap = worst_tick_gap(compute()).await;
        assert!(starved(gap), "waited only {gap:?}");
        // The planted bug: the rule rejects it.
        assert!(fair(gap).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn yielding_work_lets_the_ticker_run() {
        let gap = worst_tick_gap(compute_yielding()).await;
        assert_eq!(fair(gap), Ok(()));
    }
}
