//! Chapter 3, "From Go to Rust": `errgroup` with tokio's `JoinSet`. Wait for
//! a group of tasks, stop at the first error, and cancel the rest.
//!
//! Run it with `cargo run --example ch03_errgroup`.

use std::collections::HashMap;
use std::time::Duration;
use tokio::task::{Id, JoinSet};

/// One call of the group. `invoices` is slow; `orders` fails.
async fn fetch(what: &str) -> Result<(), String> {
    match what {
        "orders" => Err("connection refused".to_string()),
        "invoices" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

// ANCHOR: group
/// Go: g, ctx := errgroup.WithContext(ctx); g.Go(...) for each; err := g.Wait()
async fn fetch_all(names: &[&'static str]) -> Result<(), String> {
    let mut group = JoinSet::new();
    let mut index_of = HashMap::<Id, usize>::new();
    for (i, &name) in names.iter().enumerate() {
        let handle = group.spawn(fetch(name));
        index_of.insert(handle.id(), i);
    }
    let mut outcome = vec![String::new(); names.len()];
    let mut first_error = None;
    while let Some(joined) = group.join_next_with_id().await {
        let (i, what) = match joined {
            Ok((id, Ok(()))) => (index_of[&id], "ok".to_string()),
            Ok((id, Err(e))) => {
                // The first error cancels the rest, as errgroup cancels its ctx.
                group.abort_all();
                let i = index_of[&id];
                first_error.get_or_insert(format!("{}: {e}", names[i]));
                (i, format!("failed, {e}"))
            }
            Err(e) if e.is_cancelled() => {
                (index_of[&e.id()], "cancelled".to_string())
            }
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        outcome[i] = what;
    }
    for (name, what) in names.iter().zip(outcome) {
        println!("{name}: {what}");
    }
    first_error.map_or(Ok(()), Err)
}
// ANCHOR_END: group

// ANCHOR: main
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let started = tokio::time::Instant::now();
    let result = fetch_all(&["users", "orders", "invoices"]).await;
    println!("group result: {result:?}");
    // The slow call was cancelled, not waited for.
    assert!(started.elapsed() < Duration::from_secs(10));
}
// ANCHOR_END: main
