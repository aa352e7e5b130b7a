//! Chapter 5, "Patterns": receiving with a timeout and a cancellation token,
//! on threads (crossbeam `select!`) and on tasks (`tokio::select!`), and
//! cancelling a whole pipeline.
//!
//! Run it with `cargo run --example ch05_select`.

use std::time::Duration;

use otlp_csp::patterns::{SendError, tasks, threads};

// ANCHOR: threads
fn threads_select() {
    let cancel = threads::CancelToken::new();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let wait = Duration::from_millis(20);

    tx.send("hello").unwrap();
    println!("threads: {:?}", threads::recv_until(&rx, wait, &cancel));
    println!("threads: {:?}", threads::recv_until(&rx, wait, &cancel));
    cancel.cancel();
    tx.send("too late").unwrap();
    println!("threads: {:?}", threads::recv_until(&rx, wait, &cancel));
}
// ANCHOR_END: threads

// ANCHOR: tasks
async fn tokio_select() {
    let cancel = tasks::CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let wait = Duration::from_millis(20);

    tx.send("hello").await.unwrap();
    println!(
        "tokio:   {:?}",
        tasks::recv_until(&mut rx, wait, &cancel).await
    );
    drop(tx);
    println!(
        "tokio:   {:?}",
        tasks::recv_until(&mut rx, wait, &cancel).await
    );
    cancel.cancel();
    println!(
        "tokio:   {:?}",
        tasks::recv_until(&mut rx, wait, &cancel).await
    );
}
// ANCHOR_END: tasks

// ANCHOR: cancel_pipeline
fn cancel_a_pipeline() -> Result<(), Box<dyn std::error::Error>> {
    let cancel = threads::CancelToken::new();
    let (input, output) = threads::Pipeline::new(4)?
        .cancel_on(cancel.clone())
        .stage("a", |n: u64| n + 1)
        .stage("b", |n: u64| n * 2)
        .start()?;
    // A producer with no end of its own.
    let producer = std::thread::spawn(move || {
        let mut n = 0;
        loop {
            match input.send(n) {
                Ok(()) => n += 1,
                Err(e) => return e,
            }
        }
    });
    let first: Vec<u64> = (0..3).filter_map(|_| output.recv()).collect();
    println!("pipeline: first outputs {first:?}");

    cancel.cancel();
    let stopped = producer.join().expect("producer thread");
    println!(
        "pipeline: producer stopped: {}",
        matches!(stopped, SendError::Cancelled(_))
    );
    output.join()?; // every stage thread has returned
    println!("pipeline: every stage stopped");
    Ok(())
}
// ANCHOR_END: cancel_pipeline

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    threads_select();
    tokio_select().await;
    cancel_a_pipeline()
}
