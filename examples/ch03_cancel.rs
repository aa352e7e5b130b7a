//! Chapter 3, "From Go to Rust": `context` cancellation with tokio-util's
//! `CancellationToken`, `tokio::select!`, and `tokio::time::timeout`, and
//! what a timeout and `abort` leave running.
//!
//! Run it with `cargo run --example ch03_cancel`.

use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinError;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

// ANCHOR: worker
/// Works in small steps until its token is cancelled.
/// Go: for { select { case <-ctx.Done(): return; case <-tick.C: ... } }
async fn worker(name: &'static str, token: CancellationToken) -> String {
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    loop {
        tokio::select! {
            _ = token.cancelled() => {
                return format!("{name}: stopped, its token was cancelled");
            }
            _ = tick.tick() => { /* one unit of work */ }
        }
    }
}
// ANCHOR_END: worker

// ANCHOR: tree
/// Go: ctx, cancel := context.WithCancel(parent), one child per worker.
async fn token_tree() -> Result<(), JoinError> {
    let parent = CancellationToken::new();
    let a = tokio::spawn(worker("a", parent.child_token()));
    let b_token = parent.child_token();
    let b = tokio::spawn(worker("b", b_token.clone()));

    b_token.cancel(); // a child's cancel stops its subtree only
    println!("{}", b.await?);
    let (parent_cancelled, a_finished) = (parent.is_cancelled(), a.is_finished());
    println!("parent cancelled: {parent_cancelled}, a finished: {a_finished}");

    parent.cancel(); // the parent's reaches every child
    println!("{}", a.await?);
    Ok(())
}
// ANCHOR_END: tree

// ANCHOR: guard
/// Go: defer cancel(). The guard cancels when it is dropped, on any way out.
async fn cancel_on_exit() -> Result<(), JoinError> {
    let c = {
        let token = CancellationToken::new();
        let _cancel_on_exit = token.clone().drop_guard();
        tokio::spawn(worker("c", token.child_token()))
    };
    println!("{}", c.await?);
    Ok(())
}
// ANCHOR_END: guard

// ANCHOR: timeout
/// Go: ctx, cancel := context.WithTimeout(ctx, d). A future that is not
/// finished by the deadline is dropped, which cancels it.
async fn deadline() {
    let slow = tokio::time::sleep(Duration::from_secs(10));
    match timeout(Duration::from_millis(20), slow).await {
        Ok(()) => println!("slow call: finished"),
        Err(elapsed) => println!("slow call: {elapsed}"),
    }
}
// ANCHOR_END: timeout

// ANCHOR: timeout_spawned
/// The deadline drops `call` and nothing else: the task `call` spawned is
/// not part of that future, and runs on.
async fn deadline_spawned() -> Result<(), JoinError> {
    let (release, released) = oneshot::channel::<()>();
    let (handle_tx, handle) = oneshot::channel();
    let call = async move {
        let write = tokio::spawn(async move {
            let _ = released.await; // ends when told to, after the deadline
            "row written"
        });
        let _ = handle_tx.send(write);
        std::future::pending::<()>().await // the call itself never ends
    };
    if let Err(elapsed) = timeout(Duration::from_millis(20), call).await {
        println!("call: {elapsed}");
    }
    let Ok(write) = handle.await else {
        return Ok(()); // not reached: the call's first poll spawned the task
    };
    println!("its task still running: {}", !write.is_finished());
    let _ = release.send(());
    println!("its task, later: {}", write.await?);
    Ok(())
}
// ANCHOR_END: timeout_spawned

// ANCHOR: blocking_abort
/// `abort` stops a task at its next `.await`. A `spawn_blocking` closure has
/// none: once it has started, `abort` does nothing.
async fn abort_blocking() -> Result<(), JoinError> {
    let (started_tx, started) = oneshot::channel();
    let job = tokio::task::spawn_blocking(move || {
        let _ = started_tx.send(());
        std::thread::sleep(Duration::from_millis(20));
        "ran to the end"
    });
    let _ = started.await;
    job.abort();
    println!("spawn_blocking after abort(): {}", job.await?);
    Ok(())
}
// ANCHOR_END: blocking_abort

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), JoinError> {
    token_tree().await?;
    cancel_on_exit().await?;
    deadline().await;
    deadline_spawned().await?;
    abort_blocking().await?;
    Ok(())
}
