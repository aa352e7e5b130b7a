//! Statement T7 of Part III (stated in chapter 17): the span queue is free
//! of data races and loses nothing. loom runs each scenario under every
//! interleaving its scheduler produces (at most `LOOM_MAX_PREEMPTIONS`
//! preemptions each) and checks, in each one, that every accepted item comes
//! out exactly once and that the counters add up.
//!
//! These are safety properties. What the queue promises about progress
//! (non-blocking for producers: `push` is lock-free, `pop` is not) is shown
//! by the unit tests of `src/progress.rs`, which hold a thread still between
//! its claim and its stamp.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p span-queue --release --test loom`
//!
//! Two precautions. The main thread of a model only spawns and joins: loom
//! 0.7.3 can fail to interleave work done on the main thread with a spawned
//! thread's (tokio-rs/loom#392). And each scenario lists outcomes that only
//! some interleavings produce; the test fails if loom never produced one,
//! so a model checker that explored too little cannot pass silently.
#![cfg(loom)]

use std::collections::BTreeSet;
use std::sync::Mutex;

use loom::sync::Arc;
use loom::thread;
use span_queue::{BoundedQueue, Rejected};

/// The bound used when `LOOM_MAX_PREEMPTIONS` is not set: every interleaving
/// with at most this many preemptions is explored (bugs in practice need
/// few, as the CHESS work of Musuvathi and Qadeer found).
const DEFAULT_PREEMPTIONS: usize = 3;

type Outcomes = std::sync::Arc<Mutex<BTreeSet<&'static str>>>;

/// Runs `scenario` under loom; returns how many executions loom explored and
/// the outcomes they reported.
fn explore(scenario: fn(&Outcomes)) -> (u64, BTreeSet<&'static str>) {
    let outcomes = Outcomes::default();
    let executions = std::sync::Arc::new(Mutex::new(0u64));
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTIONS);
    }
    let (seen, count) = (outcomes.clone(), executions.clone());
    builder.check(move || {
        *count.lock().unwrap() += 1;
        scenario(&seen);
    });
    let n = *executions.lock().unwrap();
    let seen = outcomes.lock().unwrap().clone();
    (n, seen)
}

fn note(outcomes: &Outcomes, what: &'static str) {
    outcomes.lock().unwrap().insert(what);
}

/// A value and what `push` said about it.
type Pushed = (u32, Result<(), Rejected<u32>>);

fn accepted(results: &[Pushed]) -> Vec<u32> {
    results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(v, _)| *v)
        .collect()
}

/// The accounting every scenario ends with, once all threads are joined.
fn assert_settled(q: &BoundedQueue<u32>, offered: u64) {
    let s = q.stats();
    assert_eq!(s.offered, offered);
    assert_eq!(s.offered, s.pushed + s.dropped_full + s.dropped_closed);
    assert_eq!(s.pushed, s.popped + s.len as u64);
}

fn drain(q: &BoundedQueue<u32>, out: &mut Vec<u32>) {
    while let Some(v) = q.pop() {
        out.push(v);
    }
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// Called before each queue operation of a spawned thread. loom 0.7.3 can
/// leave out interleavings in which another thread runs between two
/// operations of a thread (see tokio-rs/loom#392 for one such case); an
/// explicit yield there is a switch point it does explore. The queue's code
/// is unchanged; the coverage checks below show the interleavings happen.
fn between() {
    thread::yield_now();
}

fn spawn_push(
    q: &Arc<BoundedQueue<u32>>,
    values: &'static [u32],
) -> thread::JoinHandle<Vec<Pushed>> {
    let q = q.clone();
    thread::spawn(move || {
        values
            .iter()
            .map(|&v| {
                between();
                (v, q.push(v))
            })
            .collect()
    })
}

fn spawn_pop(
    q: &Arc<BoundedQueue<u32>>,
    times: usize,
) -> thread::JoinHandle<Vec<u32>> {
    let q = q.clone();
    thread::spawn(move || {
        (0..times)
            .filter_map(|_| {
                between();
                q.pop()
            })
            .collect()
    })
}

/// Two producers race for a queue of one slot while a consumer pops.
fn two_producers_one_slot(outcomes: &Outcomes) {
    let q = Arc::new(BoundedQueue::new(1).unwrap());
    let p1 = spawn_push(&q, &[1]);
    let p2 = spawn_push(&q, &[2]);
    let consumer = spawn_pop(&q, 1);
    let mut results = p1.join().unwrap();
    results.extend(p2.join().unwrap());
    let mut out = consumer.join().unwrap();
    if !out.is_empty() {
        note(outcomes, "consumer popped while producers pushed");
    }
    drain(&q, &mut out);
    for (v, r) in &results {
        if let Err(e) = r {
            assert_eq!(*e, Rejected::Full(*v), "only a full queue refuses here");
            note(outcomes, "a push found the slot full");
        }
    }
    if accepted(&results).len() == 2 {
        note(outcomes, "both pushes accepted");
    }
    assert_eq!(sorted(out), sorted(accepted(&results)));
    assert_settled(&q, 2);
}

/// A consumer closes the queue and drains it while a producer pushes: every
/// item accepted is drained, every other one is refused as closed.
fn close_while_pushing(outcomes: &Outcomes) {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let producer = spawn_push(&q, &[1, 2]);
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            between();
            q.close();
            let mut out = Vec::new();
            // A pop finds nothing while a push that claimed its slot before
            // the close is still writing it: wait for it, do not give up.
            while !q.is_drained() {
                match q.pop() {
                    Some(v) => out.push(v),
                    None => thread::yield_now(),
                }
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
    note(
        outcomes,
        match accepted(&results).len() {
            0 => "closed before both pushes",
            1 => "closed between the pushes",
            _ => "closed after both pushes",
        },
    );
    assert_eq!(out, accepted(&results), "an accepted item was lost");
    assert!(q.pop().is_none());
    assert_settled(&q, 2);
}

/// Two producers push while a consumer closes the queue and drains it (the
/// shutdown of chapter 17's T5): every item accepted is drained exactly
/// once, every other one is refused as closed, and a drain that finds a
/// claimed slot not yet written waits for it.
fn close_while_two_push(outcomes: &Outcomes) {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let p1 = spawn_push(&q, &[1]);
    let p2 = spawn_push(&q, &[2]);
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            between();
            q.close();
            let mut out = Vec::new();
            let mut waited = false;
            while !q.is_drained() {
                match q.pop() {
                    Some(v) => out.push(v),
                    None => {
                        waited = true;
                        thread::yield_now();
                    }
                }
            }
            (out, waited)
        })
    };
    let mut results = p1.join().unwrap();
    results.extend(p2.join().unwrap());
    let (out, waited) = consumer.join().unwrap();
    for (v, r) in &results {
        if let Err(e) = r {
            assert_eq!(*e, Rejected::Closed(*v), "two slots are never full here");
        }
    }
    note(
        outcomes,
        match accepted(&results).len() {
            0 => "closed before both pushes",
            1 => "closed between the pushes",
            _ => "closed after both pushes",
        },
    );
    if waited {
        note(outcomes, "the drain waited for a claimed slot");
    }
    if out == [2, 1] {
        note(outcomes, "the second producer's item came out first");
    }
    assert_eq!(sorted(out), sorted(accepted(&results)), "an item was lost");
    assert!(q.pop().is_none());
    assert_settled(&q, 2);
}

/// Two consumers race for two items: each item comes out exactly once.
fn two_consumers(outcomes: &Outcomes) {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let producer = spawn_push(&q, &[1, 2]);
    let c1 = spawn_pop(&q, 1);
    let c2 = spawn_pop(&q, 1);
    let results = producer.join().unwrap();
    let (a, b) = (c1.join().unwrap(), c2.join().unwrap());
    if a.len() + b.len() == 2 {
        note(outcomes, "both consumers got an item");
    }
    let mut out: Vec<u32> = a.into_iter().chain(b).collect();
    drain(&q, &mut out);
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(sorted(out), vec![1, 2]);
    assert_settled(&q, 2);
}

/// One slot reused across laps while producer and consumer overlap: the
/// stamps keep a consumer from reading a slot twice or too early.
fn wrap_around(outcomes: &Outcomes) {
    let q = Arc::new(BoundedQueue::new(1).unwrap());
    let producer = spawn_push(&q, &[1, 2, 3]);
    let consumer = spawn_pop(&q, 2);
    let results = producer.join().unwrap();
    let mut out = consumer.join().unwrap();
    drain(&q, &mut out);
    if accepted(&results).len() >= 2 {
        note(outcomes, "the slot was reused");
    }
    // FIFO: what came out is the accepted items in push order.
    assert_eq!(out, accepted(&results));
    assert_settled(&q, 3);
}

#[test]
fn span_queue_is_race_free_and_loses_nothing() {
    type Scenario = (&'static str, fn(&Outcomes), &'static [&'static str]);
    let scenarios: [Scenario; 5] = [
        (
            "two_producers_one_slot",
            two_producers_one_slot,
            &[
                "consumer popped while producers pushed",
                "a push found the slot full",
                "both pushes accepted",
            ],
        ),
        (
            "close_while_pushing",
            close_while_pushing,
            &[
                "closed before both pushes",
                "closed between the pushes",
                "closed after both pushes",
            ],
        ),
        (
            "close_while_two_push",
            close_while_two_push,
            &[
                "closed before both pushes",
                "closed between the pushes",
                "closed after both pushes",
                "the drain waited for a claimed slot",
                "the second producer's item came out first",
            ],
        ),
        (
            "two_consumers",
            two_consumers,
            &["both consumers got an item"],
        ),
        ("wrap_around", wrap_around, &["the slot was reused"]),
    ];
    let mut measurements = Vec::new();
    let mut total = 0;
    for (name, scenario, expected) in scenarios {
        let (n, seen) = explore(scenario);
        println!("loom: {name}: {n} interleavings explored, all passed");
        for outcome in expected {
            assert!(
                seen.contains(outcome),
                "{name}: no interleaving produced \"{outcome}\" (seen: {seen:?})"
            );
        }
        total += n;
        measurements.push(book_results::Measurement::count(
            format!("ch12_loom/{name}"),
            n as f64,
            "interleavings",
        ));
    }
    let bound = std::env::var("LOOM_MAX_PREEMPTIONS")
        .unwrap_or_else(|_| DEFAULT_PREEMPTIONS.to_string());
    measurements.push(
        book_results::Measurement::count(
            "ch12_loom/total",
            total as f64,
            "interleavings",
        )
        .with_text(format!(
            "{} scenarios, {total} interleavings, at most {bound} preemptions each",
            scenarios.len()
        )),
    );
    book_results::record("ch12_loom", measurements)
        .expect("recording the loom results");
}
