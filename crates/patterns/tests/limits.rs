//! A limiter never lets more than its permits run at once, and a rate
//! spreads work out in time as configured.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use otlp_csp_patterns::{Rate, tasks};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn at_most_the_permits_run_at_once(permits in 1usize..5, jobs in 0usize..40) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let (peak, done) = rt.block_on(async {
            let limiter = tasks::Limiter::new(permits).unwrap();
            let running = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..jobs {
                let (limiter, running, peak) = (limiter.clone(), running.clone(), peak.clone());
                set.spawn(async move {
                    limiter
                        .run(async {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                        .unwrap();
                });
            }
            let done = set.join_all().await.len();
            (peak.load(Ordering::SeqCst), done)
        });
        prop_assert!(peak <= permits, "peak {peak} > {permits} permits");
        prop_assert_eq!(done, jobs);
    }
}

#[test]
fn a_rate_spreads_work_out() {
    // 20 a second with bursts of 4: the first 4 pass at once, each later one
    // waits 50 ms, so 10 cells take at least 6 × 50 ms. A lower bound only:
    // a slow machine takes longer, never shorter.
    let rate = Rate::per_second(20, 4).unwrap();
    let start = Instant::now();
    for _ in 0..10 {
        rate.acquire_blocking();
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(290),
        "10 cells at 20/s, burst 4, took only {elapsed:?}"
    );
}

#[tokio::test]
async fn the_async_rate_waits_the_same_way() {
    let limiter = tasks::Limiter::new(8)
        .unwrap()
        .with_rate(Rate::per_second(20, 4).unwrap());
    let start = Instant::now();
    for _ in 0..10 {
        limiter.run(async {}).await.unwrap();
    }
    assert!(start.elapsed() >= Duration::from_millis(290));
}
