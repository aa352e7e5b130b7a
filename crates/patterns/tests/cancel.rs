//! Cancellation stops every stage, and receives give up on time, on cancel,
//! or when the senders are gone. Timeouts here are hang guards only.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{HANG_GUARD, within_hang_guard};
use otlp_csp_patterns::{RecvError, SendError, tasks, threads};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the pipeline's shape and however far it got, cancelling
    /// ends every stage and every send.
    #[test]
    fn cancelling_stops_a_threads_pipeline(
        capacity in 1usize..5,
        stages in 1usize..5,
        received_before_cancel in 0usize..50,
    ) {
        within_hang_guard(move || {
            let token = threads::CancelToken::new();
            let mut p = threads::Pipeline::new(capacity)
                .unwrap()
                .cancel_on(token.clone())
                .stage("first", |x: u64| x);
            for _ in 1..stages {
                p = p.stage("next", |x: u64| x + 1);
            }
            let (input, output) = p.start().unwrap();
            // An endless producer: only cancellation can stop it.
            let producer = std::thread::spawn(move || {
                let mut i = 0u64;
                loop {
                    match input.send(i) {
                        Ok(()) => i += 1,
                        Err(e) => return e,
                    }
                }
            });
            for _ in 0..received_before_cancel {
                output.recv().unwrap();
            }
            token.cancel();
            assert!(matches!(producer.join().unwrap(), SendError::Cancelled(_)));
            output.join().unwrap();
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_a_tokio_pipeline_even_mid_item() {
    let token = tasks::CancellationToken::new();
    let started = Arc::new(AtomicBool::new(false));
    let (input, output) = {
        let started = started.clone();
        tasks::Pipeline::new(1)
            .unwrap()
            .cancel_on(token.clone())
            .stage("fast", |x: u32| async move { x })
            .stage("stuck", move |_: u32| {
                started.store(true, Ordering::SeqCst);
                // Never finishes on its own.
                std::future::pending::<u32>()
            })
            .start()
            .unwrap()
    };
    let producer = tokio::spawn(async move {
        let mut i = 0;
        loop {
            if let Err(e) = input.send(i).await {
                return e;
            }
            i += 1;
        }
    });
    while !started.load(Ordering::SeqCst) {
        tokio::task::yield_now().await;
    }
    token.cancel();
    let stopped = tokio::time::timeout(HANG_GUARD, async {
        let e = producer.await.unwrap();
        output.join().await.unwrap();
        e
    })
    .await
    .expect("the pipeline did not stop after cancellation");
    assert!(matches!(stopped, SendError::Cancelled(_)));
}

#[test]
fn threads_recv_until_reports_each_way_of_giving_up() {
    let token = threads::CancelToken::new();
    let (tx, rx) = crossbeam_channel::bounded(1);
    tx.send(1).unwrap();
    assert_eq!(threads::recv_until(&rx, HANG_GUARD, &token), Ok(1));
    let short = Duration::from_millis(5);
    assert_eq!(
        threads::recv_until(&rx, short, &token),
        Err(RecvError::Timeout)
    );
    // Cancelled from another thread while waiting.
    let waiter = {
        let (rx, token) = (rx.clone(), token.clone());
        std::thread::spawn(move || threads::recv_until(&rx, HANG_GUARD, &token))
    };
    token.cancel();
    assert_eq!(waiter.join().unwrap(), Err(RecvError::Cancelled));
    // Cancellation wins over a waiting value.
    tx.send(2).unwrap();
    assert_eq!(
        threads::recv_until(&rx, HANG_GUARD, &token),
        Err(RecvError::Cancelled)
    );
    let fresh = threads::CancelToken::new();
    assert_eq!(threads::recv_until(&rx, HANG_GUARD, &fresh), Ok(2));
    drop(tx);
    assert_eq!(
        threads::recv_until(&rx, HANG_GUARD, &fresh),
        Err(RecvError::Disconnected)
    );
}

#[tokio::test]
async fn tokio_recv_until_reports_each_way_of_giving_up() {
    let token = tasks::CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    tx.send(1).await.unwrap();
    assert_eq!(tasks::recv_until(&mut rx, HANG_GUARD, &token).await, Ok(1));
    assert_eq!(
        tasks::recv_until(&mut rx, Duration::from_millis(5), &token).await,
        Err(RecvError::Timeout)
    );
    tx.send(2).await.unwrap();
    token.cancel();
    assert_eq!(
        tasks::recv_until(&mut rx, HANG_GUARD, &token).await,
        Err(RecvError::Cancelled)
    );
    let fresh = tasks::CancellationToken::new();
    assert_eq!(tasks::recv_until(&mut rx, HANG_GUARD, &fresh).await, Ok(2));
    drop(tx);
    assert_eq!(
        tasks::recv_until(&mut rx, HANG_GUARD, &fresh).await,
        Err(RecvError::Disconnected)
    );
}

#[test]
fn dropping_the_output_stops_the_stages_and_fails_the_producer() {
    let err = within_hang_guard(|| {
        let (input, output) = threads::Pipeline::new(2)
            .unwrap()
            .stage("a", |x: u32| x)
            .stage("b", |x: u32| x)
            .start()
            .unwrap();
        let producer = std::thread::spawn(move || {
            let mut i = 0;
            loop {
                if let Err(e) = input.send(i) {
                    return e;
                }
                i += 1;
            }
        });
        assert_eq!(output.recv(), Some(0));
        drop(output);
        producer.join().unwrap()
    });
    assert!(matches!(err, SendError::Closed(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_tokio_pipeline_early_does_not_wait_for_its_input() {
    let (input, mut output) = tasks::Pipeline::new(2)
        .unwrap()
        .stage("a", |x: u32| async move { x })
        .start()
        .unwrap();
    input.send(1).await.unwrap();
    assert_eq!(output.recv().await, Some(1));
    // `input` is still alive: without the internal stop, the stage would
    // wait for it forever.
    tokio::time::timeout(HANG_GUARD, output.join())
        .await
        .expect("join waited for an input that was never dropped")
        .unwrap();
    assert!(matches!(input.send(2).await, Err(SendError::Closed(2))));
}
