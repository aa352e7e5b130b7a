//! Chapter 3, "From Go to Rust": bounding concurrency with a semaphore, where
//! Go uses a buffered channel or `x/sync/semaphore`.
//!
//! Run it with `cargo run --example ch03_semaphore`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

// ANCHOR: main
#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Go: sem := make(chan struct{}, 2)
    let permits = Arc::new(Semaphore::new(2));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));

    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let (permits, running, peak) =
            (permits.clone(), running.clone(), peak.clone());
        tasks.spawn(async move {
            // Go: sem <- struct{}{}; defer func() { <-sem }()
            let _permit = permits.acquire_owned().await.unwrap();
            peak.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            running.fetch_sub(1, SeqCst);
            // `_permit` is dropped here, which releases it: there is no
            // release call to forget.
        });
    }
    tasks.join_all().await;
    println!(
        "6 tasks, 2 permits: at most {} ran at once",
        peak.load(SeqCst)
    );
    println!(
        "permits available afterwards: {}",
        permits.available_permits()
    );
}
// ANCHOR_END: main
