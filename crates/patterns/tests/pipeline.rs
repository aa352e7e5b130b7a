//! A pipeline delivers every item exactly once, in order, and its bounded
//! channels stop a producer that runs ahead of the consumer.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::within_hang_guard;
use otlp_csp_patterns::{tasks, threads};
use proptest::prelude::*;

fn threads_pipeline(capacity: usize, stages: usize, items: Vec<u32>) -> Vec<u64> {
    // Each stage adds its number to the item's history, so the output shows
    // both which items arrived and that each passed every stage once.
    let mut p = threads::Pipeline::new(capacity)
        .unwrap()
        .stage("lift", |x: u32| u64::from(x) * 100);
    for s in 0..stages {
        p = p.stage("add", move |x: u64| x + s as u64 + 1);
    }
    p.run(items).unwrap()
}

fn expected(stages: usize, items: &[u32]) -> Vec<u64> {
    let added: u64 = (1..=stages as u64).sum();
    items.iter().map(|&x| u64::from(x) * 100 + added).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn threads_pipeline_delivers_every_item_once_in_order(
        capacity in 1usize..6,
        stages in 0usize..4,
        items in prop::collection::vec(any::<u32>(), 0..300),
    ) {
        let want = expected(stages, &items);
        prop_assert_eq!(threads_pipeline(capacity, stages, items), want);
    }

    #[test]
    fn tokio_pipeline_delivers_every_item_once_in_order(
        capacity in 1usize..6,
        stages in 0usize..4,
        items in prop::collection::vec(any::<u32>(), 0..300),
    ) {
        let want = expected(stages, &items);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let got = rt.block_on(async move {
            let mut p = tasks::Pipeline::new(capacity)
                .unwrap()
                .stage("lift", |x: u32| async move { u64::from(x) * 100 });
            for s in 0..stages {
                p = p.stage("add", move |x: u64| async move {
                    tokio::task::yield_now().await; // let the stages interleave
                    x + s as u64 + 1
                });
            }
            let (input, mut output) = p.start().unwrap();
            let feeder = tokio::spawn(async move {
                for x in items {
                    input.send(x).await.unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(y) = output.recv().await {
                got.push(y);
            }
            feeder.await.unwrap();
            output.join().await.unwrap();
            got
        });
        prop_assert_eq!(got, want);
    }
}

#[test]
fn a_producer_stops_when_the_buffers_are_full() {
    // One stage, capacity 3: the input channel holds 3, the stage holds 1 it
    // cannot send on, the output channel holds 3. The 8th send must wait.
    let capacity = 3;
    let (input, output) = threads::Pipeline::new(capacity)
        .unwrap()
        .stage("pass", |x: u32| x)
        .start()
        .unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let producer = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                if input.send(i).is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let bound = 2 * capacity + 1;
    // Wait until the producer has filled every buffer...
    within_hang_guard({
        let sent = sent.clone();
        move || {
            while sent.load(Ordering::SeqCst) < bound {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    // ...then give it time to overrun them, which it must not do.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sent.load(Ordering::SeqCst), bound);
    // Draining lets it finish.
    let mut output = output;
    let got: Vec<u32> = output.by_ref().collect();
    producer.join().unwrap();
    output.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn an_item_travels_with_a_context_of_24_bytes() {
    // The chapter's figure for what carrying the context adds to a u64 item.
    assert_eq!(std::mem::size_of::<u64>(), 8);
    assert_eq!(std::mem::size_of::<otlp_csp_patterns::Traced<u64>>(), 32);
}
