//! Chapter 3, "From Go to Rust": closing a channel is dropping its senders,
//! and a send that can no longer be received is an `Err`, not a panic.
//!
//! Run it with `cargo run --example ch03_closed_channel`.

use crossbeam_channel::SendError;

// ANCHOR: close
/// Go: ch := make(chan int, 4); ch <- 1; ch <- 2; close(ch); for v := range ch {...}
async fn close_by_dropping() {
    let (tx, rx) = crossbeam_channel::bounded(4);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(tx); // the last Sender is gone: the channel is closed
    let drained: Vec<i32> = rx.iter().collect(); // ends once the buffer is empty
    println!(
        "crossbeam: drained {drained:?}, then recv() = {:?}",
        rx.recv()
    );

    // The same with tokio's channel: recv() gives None instead of Err.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    drop(tx);
    let mut drained = Vec::new();
    while let Some(v) = rx.recv().await {
        drained.push(v);
    }
    println!(
        "tokio: drained {drained:?}, then recv() = {:?}",
        rx.recv().await
    );
}
// ANCHOR_END: close

// ANCHOR: send_err
/// Go panics on a send to a closed channel. Here a Sender cannot close the
/// channel at all; it is closed for sending when every Receiver is gone,
/// and then send() hands the value back inside the error.
async fn send_without_receiver() {
    let (tx, rx) = crossbeam_channel::bounded(4);
    drop(rx);
    match tx.send(3) {
        Err(SendError(v)) => {
            println!("crossbeam: send with no receiver: Err, {v} handed back")
        }
        Ok(()) => unreachable!("nobody can receive it"),
    }

    let (tx, rx) = tokio::sync::mpsc::channel(4);
    drop(rx);
    let err = tx.send(3).await.unwrap_err();
    println!(
        "tokio: send with no receiver: Err({err}), {} handed back",
        err.0
    );
}
// ANCHOR_END: send_err

#[tokio::main(flavor = "current_thread")]
async fn main() {
    close_by_dropping().await;
    send_without_receiver().await;
}
