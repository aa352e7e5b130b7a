//! Chapter 4, "Channels compared": flume, one channel with a blocking end and
//! an async end, and the answers it gives when a side is gone.
//!
//! Run it with `cargo run --example ch04_flume`.

use flume::{RecvError, SendError, TrySendError};

// ANCHOR: bridge
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (tx, rx) = flume::bounded::<u64>(16);

    // A plain thread uses the blocking half of the API...
    let producer = std::thread::spawn(move || {
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
    });

    // ...and a task on the runtime awaits the same channel: the thread
    // blocks when the buffer is full, the task never blocks its thread.
    let mut sum = 0;
    while let Ok(value) = rx.recv_async().await {
        sum += value;
    }
    producer.join().unwrap();
    println!("task received 1000 values from a thread, sum {sum}");

    semantics();
}
// ANCHOR_END: bridge

// ANCHOR: semantics
// ANCHOR: shared_queue
fn semantics() {
    // Capacity 0 is a rendezvous: with nobody receiving, there is no room.
    let (tx, rx) = flume::bounded::<u64>(0);
    let full = tx.try_send(1).unwrap_err();
    assert_eq!(full, TrySendError::Full(1));
    println!("bounded(0), no receiver waiting, try_send: {full}");

    // Receivers clone: two threads share one queue, each value goes to one.
    let (work_tx, work_rx) = flume::bounded::<u64>(64);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let work_rx = work_rx.clone();
            std::thread::spawn(move || work_rx.iter().count())
        })
        .collect();
    for i in 0..100 {
        work_tx.send(i).unwrap();
    }
    drop(work_tx);
    let handled: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(handled, 100);
    println!("two receivers shared one queue: {handled} of 100 values handled once");
    // ANCHOR_END: shared_queue

    // ANCHOR: closing
    // Every receiver dropped: send fails at once and hands the value back.
    drop((rx, work_rx));
    let closed = tx.send(2).unwrap_err();
    assert_eq!(closed, SendError(2));
    println!("every receiver dropped, send: {closed}");

    // Every sender dropped: buffered values still arrive, then an error.
    let (tx, rx) = flume::unbounded::<u64>();
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!(rx.recv(), Ok(3));
    let end = rx.recv().unwrap_err();
    assert_eq!(end, RecvError::Disconnected);
    println!("every sender dropped, recv: the buffered 3, then {end}");

    // Selector waits on several receivers and runs the first that is ready.
    let (_idle_tx, idle) = flume::unbounded::<&str>();
    let (busy_tx, busy) = flume::unbounded::<&str>();
    busy_tx.send("work").unwrap();
    let picked = flume::Selector::new()
        .recv(&idle, |r| r.unwrap())
        .recv(&busy, |r| r.unwrap())
        .wait();
    assert_eq!(picked, "work");
    println!("Selector over an idle and a busy receiver: got {picked:?}");
}
// ANCHOR_END: closing
// ANCHOR_END: semantics
