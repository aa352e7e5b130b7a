//! Chapter 3, "From Go to Rust": Go's `sync.WaitGroup` for tasks is
//! tokio-util's `TaskTracker`.
//!
//! Run it with `cargo run --example ch03_waitgroup`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::timeout;
use tokio_util::task::TaskTracker;

// ANCHOR: main
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let tracker = TaskTracker::new(); // Go: var wg sync.WaitGroup
    let ended = Arc::new(AtomicUsize::new(0));
    for i in 0..3 {
        let ended = ended.clone();
        // Go: wg.Add(1); go func() { defer wg.Done(); ... }()
        tracker.spawn(async move {
            tokio::time::sleep(Duration::from_millis(10 * i)).await;
            ended.fetch_add(1, Relaxed);
        });
    }
    tracker.close(); // no more tasks will be added
    tracker.wait().await; // Go: wg.Wait()
    println!("wait() returned: {} of 3 tasks ended", ended.load(Relaxed));

    // Unlike a WaitGroup at zero, an empty tracker that is still open waits:
    // a task may yet be added.
    let open = TaskTracker::new();
    let returned = timeout(Duration::from_millis(20), open.wait())
        .await
        .is_ok();
    println!("empty and open: wait() returned within 20ms: {returned}");
    open.close();
    let returned = timeout(Duration::from_millis(20), open.wait())
        .await
        .is_ok();
    println!("empty and closed: wait() returned within 20ms: {returned}");
}
// ANCHOR_END: main
