//! Statement T7 of Part III: the lock-free queue is free of data races and
//! loses nothing. loom runs each scenario under every interleaving its
//! scheduler can produce (bounded by `LOOM_MAX_PREEMPTIONS` when set) and
//! checks, in each one, that every accepted item comes out exactly once and
//! that the counters add up.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p span-queue --release --test loom`
#![cfg(loom)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use loom::sync::Arc;
use loom::thread;
use span_queue::{BoundedQueue, Rejected, wait_quiescent};

/// The bound used when `LOOM_MAX_PREEMPTIONS` is not set: every
/// interleaving with at most this many preemptions is explored (bugs in
/// practice need few, as the CHESS work of Musuvathi and Qadeer found).
const DEFAULT_PREEMPTIONS: usize = 2;

/// Runs `scenario` under loom and returns how many executions it explored.
fn explore(scenario: impl Fn() + Sync + Send + 'static) -> u64 {
    let executions = std::sync::Arc::new(AtomicU64::new(0));
    let counted = executions.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTIONS);
    }
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        scenario();
    });
    executions.load(Relaxed)
}

/// Items a push accepted, and the checks every scenario ends with.
fn accepted(results: &[(u32, Result<(), Rejected<u32>>)]) -> Vec<u32> {
    results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(v, _)| *v)
        .collect()
}

fn assert_settled(q: &BoundedQueue<u32>, offered: u64) {
    assert!(q.is_quiescent());
    let s = q.stats();
    assert_eq!(s.offered, offered);
    assert_eq!(s.offered, s.pushed + s.dropped_full + s.dropped_closed);
    assert_eq!(s.pushed, s.popped + s.len as u64);
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// Two producers race for a queue of one slot while a consumer pops.
fn two_producers_one_slot() {
    let q = Arc::new(BoundedQueue::new(1).unwrap());
    let producers: Vec<_> = [1u32, 2]
        .into_iter()
        .map(|v| {
            let q = q.clone();
            thread::spawn(move || (v, q.push(v)))
        })
        .collect();
    let consumer = {
        let q = q.clone();
        thread::spawn(move || q.pop().into_iter().collect::<Vec<_>>())
    };
    let results: Vec<_> = producers.into_iter().map(|h| h.join().unwrap()).collect();
    let mut out = consumer.join().unwrap();
    while let Some(v) = q.pop() {
        out.push(v);
    }
    for (v, r) in &results {
        if let Err(e) = r {
            assert_eq!(*e, Rejected::Full(*v), "only a full queue refuses here");
        }
    }
    assert_eq!(sorted(out), sorted(accepted(&results)));
    assert_settled(&q, 2);
}

/// A consumer closes the queue and drains it while a producer pushes: every
/// item accepted before the close is drained, every later one is refused.
fn close_while_pushing() {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let producer = {
        let q = q.clone();
        thread::spawn(move || vec![(1u32, q.push(1)), (2, q.push(2))])
    };
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            q.close();
            wait_quiescent(&q);
            let mut out = Vec::new();
            while let Some(v) = q.pop() {
                out.push(v);
            }
            out
        })
    };
    let results = producer.join().unwrap();
    let out = consumer.join().unwrap();
    for (v, r) in &results {
        if let Err(e) = r {
            assert_eq!(*e, Rejected::Closed(*v), "two slots are never full here");
        }
    }
    assert_eq!(
        sorted(out),
        sorted(accepted(&results)),
        "an accepted item was lost"
    );
    assert!(q.pop().is_none());
    assert_settled(&q, 2);
}

/// Two consumers race for two items: each item comes out exactly once.
fn two_consumers() {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let producer = {
        let q = q.clone();
        thread::spawn(move || vec![(1u32, q.push(1)), (2, q.push(2))])
    };
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || q.pop().into_iter().collect::<Vec<_>>())
        })
        .collect();
    let results = producer.join().unwrap();
    let mut out: Vec<u32> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    while let Some(v) = q.pop() {
        out.push(v);
    }
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(sorted(out), vec![1, 2]);
    assert_settled(&q, 2);
}

/// One slot reused across laps while producer and consumer overlap: the
/// stamps keep a consumer from reading a slot twice or too early.
fn wrap_around() {
    let q = Arc::new(BoundedQueue::new(1).unwrap());
    let producer = {
        let q = q.clone();
        thread::spawn(move || (1u32..=3).map(|v| (v, q.push(v))).collect::<Vec<_>>())
    };
    let consumer = {
        let q = q.clone();
        thread::spawn(move || (0..2).filter_map(|_| q.pop()).collect::<Vec<_>>())
    };
    let mut out = consumer.join().unwrap();
    let results = producer.join().unwrap();
    out.extend(q.pop());
    assert!(q.pop().is_none());
    // FIFO: what came out is the accepted items in push order.
    assert_eq!(out, accepted(&results));
    assert_settled(&q, 3);
    eprintln!(
        "wrap: {out:?} {:?}",
        results.iter().map(|r| r.1.is_ok()).collect::<Vec<_>>()
    );
}

#[test]
fn lock_free_queue_is_race_free_and_loses_nothing() {
    let scenarios: [(&str, fn()); 4] = [
        ("two_producers_one_slot", two_producers_one_slot),
        ("close_while_pushing", close_while_pushing),
        ("two_consumers", two_consumers),
        ("wrap_around", wrap_around),
    ];
    let mut measurements = Vec::new();
    let mut total = 0;
    for (name, scenario) in scenarios {
        let n = explore(scenario);
        println!("loom: {name}: {n} interleavings explored, all passed");
        total += n;
        measurements.push(book_results::Measurement::count(
            format!("ch12_loom/{name}"),
            n as f64,
            "interleavings",
        ));
    }
    let bound =
        std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| DEFAULT_PREEMPTIONS.to_string());
    measurements.push(
        book_results::Measurement::count("ch12_loom/total", total as f64, "interleavings")
            .with_text(format!(
                "{} scenarios, {total} interleavings, preemption bound: {bound}",
                scenarios.len()
            )),
    );
    book_results::record("ch12_loom", measurements).expect("recording the loom results");
}
