//! Chapter 3, "From Go to Rust": Go's "forgot to close the channel" in Rust.
//! A receiving loop ends only when every Sender is dropped, so one clone
//! kept alive by mistake leaves the consumer waiting forever.
//!
//! Run it with `cargo run --example ch03_forgotten_sender`.

use std::thread;
use std::time::Duration;

/// How long a finished pipeline gets to wind down before we call it stuck.
const PATIENCE: Duration = Duration::from_millis(100);

// ANCHOR: threads
fn with_threads() {
    let (tx, rx) = crossbeam_channel::unbounded::<u32>();
    let consumer = thread::spawn(move || rx.iter().count());
    let producers: Vec<_> = (0..3)
        .map(|_| {
            let tx = tx.clone();
            thread::spawn(move || (0..10).for_each(|i| tx.send(i).unwrap()))
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Bug: `tx` itself is still alive, so the consumer's loop cannot end.
    thread::sleep(PATIENCE);
    let finished = consumer.is_finished();
    println!("threads: producers done, consumer finished: {finished}");

    drop(tx); // the late fix; the chapter shows the habit that avoids the bug
    let counted = consumer.join().unwrap();
    println!("threads: after drop(tx), consumer counted {counted}");
}
// ANCHOR_END: threads

// ANCHOR: tasks
/// The same with tokio: a task blocked in recv().await is a leak nobody sees.
async fn with_tasks() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(16);
    let mut consumer = tokio::spawn(async move {
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        n
    });
    for i in 0..30 {
        tx.send(i).await.unwrap();
    }
    let finished = tokio::time::timeout(PATIENCE, &mut consumer).await.is_ok();
    println!("tasks: all sent, consumer finished: {finished}");

    drop(tx);
    let counted = consumer.await.unwrap();
    println!("tasks: after drop(tx), consumer counted {counted}");
}
// ANCHOR_END: tasks

#[tokio::main(flavor = "current_thread")]
async fn main() {
    with_threads();
    with_tasks().await;
}
