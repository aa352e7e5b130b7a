//! Chapter 5, "Patterns": a pipeline of bounded stages, on threads and on
//! tokio tasks, and what happens when a stage panics or the consumer leaves.
//!
//! Run it with `cargo run --example ch05_pipeline`.

use otlp_csp::patterns::{tasks, threads};

// ANCHOR: threads
fn threads_pipeline() -> Result<(), Box<dyn std::error::Error>> {
    // Three stages, each a thread; every channel holds at most 4 items.
    let pipeline = threads::Pipeline::new(4)?
        .stage("parse", |line: &str| {
            line.trim().parse::<u64>().unwrap_or(0)
        })
        .stage("square", |n| n * n)
        .stage("label", |n| format!("{n}"));
    let lines = ["1", " 2", "3 ", "4", "5", "6", "7", "8", "9", "10"];
    // `run` feeds the items from a second thread while this one collects.
    let out = pipeline.run(lines)?;
    println!("threads: {}", out.join(" "));
    Ok(())
}
// ANCHOR_END: threads

// ANCHOR: tasks
async fn tokio_pipeline() -> Result<(), Box<dyn std::error::Error>> {
    let (input, mut output) = tasks::Pipeline::new(4)?
        .stage("fetch", |id: u32| async move {
            tokio::task::yield_now().await; // stands in for I/O
            id * 10
        })
        .stage("store", |n| async move { format!("#{n}") })
        .start()?;
    // Feed from a task of its own, so that draining below runs concurrently.
    let feeder = tokio::spawn(async move {
        for id in 1..=5 {
            if input.send(id).await.is_err() {
                break;
            }
        }
        // `input` is dropped here: the stages finish in turn.
    });
    let mut stored = Vec::new();
    while let Some(s) = output.recv().await {
        stored.push(s);
    }
    feeder.await?;
    output.join().await?;
    println!("tokio:   {}", stored.join(" "));
    Ok(())
}
// ANCHOR_END: tasks

// ANCHOR: failures
// ANCHOR: panic
fn failures() -> Result<(), Box<dyn std::error::Error>> {
    // A stage that panics ends the run; the error names the stage.
    let pipeline = threads::Pipeline::new(2)?
        .stage("parse", |s: &str| s.parse::<u32>())
        .stage("check", |r| r.expect("a number"));
    match pipeline.run(["1", "2", "x", "4"]) {
        Ok(v) => println!("unexpected success: {v:?}"),
        Err(e) => println!("run failed: {e}"),
    }
    // ANCHOR_END: panic

    // ANCHOR: early_exit
    // A consumer that leaves early: `join` stops the stages even though an
    // Input is still alive, and later sends fail instead of blocking.
    let (input, output) = threads::Pipeline::new(2)?
        .stage("double", |n: u32| n * 2)
        .start()?;
    input.send(21)?;
    println!("first output: {:?}", output.recv());
    output.join()?;
    match input.send(22) {
        Ok(()) => println!("unexpected: the send was accepted"),
        Err(e) => {
            let reason = e.to_string();
            println!(
                "send after the consumer left: {reason}; got back {}",
                e.into_inner()
            );
        }
    }
    Ok(())
}
// ANCHOR_END: early_exit
// ANCHOR_END: failures

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The pipeline reports a stage's panic as an error; silence the default
    // hook, which would print it a second time with a thread name and a line.
    std::panic::set_hook(Box::new(|_| {}));
    threads_pipeline()?;
    tokio_pipeline().await?;
    failures()
}
