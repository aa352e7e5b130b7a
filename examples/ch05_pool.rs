//! Chapter 5, "Patterns": a worker pool with a bounded queue: a full queue,
//! a panicking job, shutdown with a drain, and a job that waits on its own pool.
//!
//! Run it with `cargo run --example ch05_pool`.

use std::time::Duration;

use crossbeam_channel::bounded;
use otlp_csp::patterns::{tasks, threads};

// ANCHOR: pool
// ANCHOR: occupy
fn pool() -> Result<(), Box<dyn std::error::Error>> {
    // Two workers, room for two waiting jobs.
    let pool = threads::WorkerPool::new(2, 2)?;

    // Occupy both workers until released, then fill the queue.
    let (release, gate) = bounded::<()>(0);
    let (started_tx, started) = bounded(2);
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let (gate, started_tx) = (gate.clone(), started_tx.clone());
            pool.submit(move || {
                started_tx.send(()).unwrap();
                let _ = gate.recv(); // returns when `release` is dropped
                i
            })
        })
        .collect::<Result<_, _>>()?;
    (0..2).for_each(|_| started.recv().unwrap());
    // ANCHOR_END: occupy
    // ANCHOR: fill
    let queued = pool.submit(|| 2)?;
    let panics = pool.submit(|| -> i32 { panic!("bad input") })?;

    // The queue is full: try_submit says so instead of waiting.
    match pool.try_submit(|| 4) {
        Ok(_) => println!("unexpected: accepted"),
        Err(e) => println!("try_submit: {e}"),
    }
    // ANCHOR_END: fill

    // ANCHOR: drain
    drop(release); // the busy jobs return
    for handle in busy {
        println!("busy job: {:?}", handle.join());
    }
    println!("queued job: {:?}", queued.join());
    println!("panicking job: {:?}", panics.join());

    // Both workers survived the panic. Shutdown refuses new work, lets the
    // accepted jobs finish, and joins the workers.
    let late = pool.submit(|| 5)?;
    let stats = pool.shutdown();
    println!("job accepted before shutdown: {:?}", late.join());
    println!("{stats:?}");
    match pool.submit(|| 6) {
        Ok(_) => println!("unexpected: accepted after shutdown"),
        Err(e) => println!("submit after shutdown: {e}"),
    }
    Ok(())
}
// ANCHOR_END: drain
// ANCHOR_END: pool

// ANCHOR: cycle
// ANCHOR: blocking_cycle
fn job_waits_on_its_own_pool() -> Result<(), Box<dyn std::error::Error>> {
    // One worker, one queue slot. The running job submits a follow-up while
    // another job fills the queue: it waits for room that only it could make.
    let pool = threads::WorkerPool::new(1, 1)?;
    let (queued_tx, queued) = bounded::<()>(1);
    let (done_tx, done) = bounded(1);
    let inner = pool.clone();
    pool.submit(move || {
        queued.recv().unwrap(); // wait until the queue is full
        let follow_up = inner.submit(|| ()); // blocks: nobody frees the slot
        done_tx.send(follow_up.is_ok()).unwrap();
    })?;
    let _filler = pool.submit(|| ())?;
    queued_tx.send(())?;
    match done.recv_timeout(Duration::from_millis(200)) {
        Ok(_) => println!("unexpected: the follow-up was accepted"),
        Err(_) => println!(
            "blocking submit from a job: still waiting after 200ms (deadlock)"
        ),
    }
    // ANCHOR_END: blocking_cycle

    // ANCHOR: try_cycle
    // With try_submit, the job learns at once and can do something else.
    let pool = threads::WorkerPool::new(1, 1)?;
    let (queued_tx, queued) = bounded::<()>(1);
    let inner = pool.clone();
    let job = pool.submit(move || {
        queued.recv().unwrap();
        inner.try_submit(|| ()).map(drop)
    })?;
    let _filler = pool.submit(|| ())?;
    queued_tx.send(())?;
    println!("try_submit from a job: {:?}", job.join()?);
    pool.shutdown();
    Ok(())
}
// ANCHOR_END: try_cycle
// ANCHOR_END: cycle

// ANCHOR: tasks
async fn tokio_pool() -> Result<(), Box<dyn std::error::Error>> {
    let pool = tasks::WorkerPool::new(2, 8)?;
    let mut handles = Vec::new();
    for id in 1..=3u64 {
        handles.push(
            pool.submit(async move {
                tokio::time::sleep(Duration::from_millis(id)).await;
                id * 100
            })
            .await?,
        );
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.join().await?);
    }
    println!("tokio pool results: {results:?}");
    println!("tokio pool: {:?}", pool.shutdown().await);
    Ok(())
}
// ANCHOR_END: tasks

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The pool reports a job's panic on its handle; silence the default
    // hook, which would print it a second time with a thread name and a line.
    std::panic::set_hook(Box::new(|_| {}));
    pool()?;
    job_waits_on_its_own_pool()?;
    tokio_pool().await
}
