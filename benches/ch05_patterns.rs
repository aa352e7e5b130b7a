//! Chapter 5: each pattern of `otlp-csp-patterns` next to the same topology
//! written by hand with crossbeam-channel: same threads, same channels, same
//! capacities, the same trivial work per item. The difference is what the
//! pattern adds: contexts carried with each item, span calls (into the no-op
//! tracer: no provider is installed here), panic isolation, cancellation.
//!
//! One iteration moves N = 10 000 items through the topology, threads
//! started and joined included. Run with `cargo xtask bench` (or
//! `cargo bench --bench ch05_patterns`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group};
use crossbeam_channel::{Receiver, Sender, bounded};
use otlp_csp::patterns::{Order, threads};

const N: u64 = 10_000;
const CAP: usize = 64;
const WORKERS: usize = 2;

fn work(x: u64) -> u64 {
    black_box(x.wrapping_mul(3).wrapping_add(1))
}

// ANCHOR: raw_pipeline
/// Source → 3 stages → this thread, bounded(CAP) channels between them.
fn raw_pipeline() -> Vec<u64> {
    let stage = |rx: Receiver<u64>, tx: Sender<u64>| {
        thread::spawn(move || {
            for x in rx {
                if tx.send(work(x)).is_err() {
                    return;
                }
            }
        })
    };
    let (tx0, rx0) = bounded(CAP);
    let (tx1, rx1) = bounded(CAP);
    let (tx2, rx2) = bounded(CAP);
    let (tx3, rx3) = bounded(CAP);
    let source = thread::spawn(move || (0..N).for_each(|x| tx0.send(x).unwrap()));
    let stages = [stage(rx0, tx1), stage(rx1, tx2), stage(rx2, tx3)];
    let out: Vec<u64> = rx3.iter().collect();
    source.join().unwrap();
    stages.into_iter().for_each(|s| s.join().unwrap());
    out
}
// ANCHOR_END: raw_pipeline

/// The same, sending what the pattern's channels carry untraced: the item
/// beside an empty slot for a boxed context, 16 bytes where the item alone
/// is 8. The difference from `raw_pipeline` is the message's size alone.
fn raw_pipeline_wide() -> Vec<u64> {
    type Wide = (Option<Box<()>>, u64);
    let stage = |rx: Receiver<Wide>, tx: Sender<Wide>| {
        thread::spawn(move || {
            for (cx, x) in rx {
                if tx.send((cx, work(x))).is_err() {
                    return;
                }
            }
        })
    };
    let (tx0, rx0) = bounded(CAP);
    let (tx1, rx1) = bounded(CAP);
    let (tx2, rx2) = bounded(CAP);
    let (tx3, rx3) = bounded(CAP);
    let source =
        thread::spawn(move || (0..N).for_each(|x| tx0.send((None, x)).unwrap()));
    let stages = [stage(rx0, tx1), stage(rx1, tx2), stage(rx2, tx3)];
    let out: Vec<u64> = rx3.iter().map(|(_, x)| x).collect();
    source.join().unwrap();
    stages.into_iter().for_each(|s| s.join().unwrap());
    out
}

// ANCHOR: pattern_pipeline
fn pattern_pipeline() -> Vec<u64> {
    // No tracer provider is installed: the no-op tracer, recognised as such.
    threads::Pipeline::new(CAP)
        .unwrap()
        .stage("a", work)
        .stage("b", work)
        .stage("c", work)
        .run(0..N)
        .unwrap()
}
// ANCHOR_END: pattern_pipeline

/// Feeder → WORKERS workers sharing one channel → this thread, in completion order.
fn raw_fan_out() -> Vec<u64> {
    let (work_tx, work_rx) = bounded(WORKERS);
    let (done_tx, done_rx) = bounded(WORKERS);
    let feeder =
        thread::spawn(move || (0..N).for_each(|x| work_tx.send(x).unwrap()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            thread::spawn(move || rx.iter().for_each(|x| tx.send(work(x)).unwrap()))
        })
        .collect();
    drop((work_rx, done_tx));
    let out: Vec<u64> = done_rx.iter().collect();
    feeder.join().unwrap();
    workers.into_iter().for_each(|w| w.join().unwrap());
    out
}

/// The same, with each item's index, and a reorder buffer in the collector
/// that hands results on in input order (it may grow without bound).
fn raw_fan_out_ordered() -> Vec<u64> {
    let (work_tx, work_rx) = bounded(WORKERS);
    let (done_tx, done_rx) = bounded(WORKERS);
    let feeder =
        thread::spawn(move || (0..N).for_each(|x| work_tx.send(x).unwrap()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            thread::spawn(move || {
                rx.iter().for_each(|x| tx.send((x, work(x))).unwrap())
            })
        })
        .collect();
    drop((work_rx, done_tx));
    let (mut out, mut early, mut next) = (Vec::new(), BTreeMap::new(), 0);
    for (i, y) in done_rx {
        early.insert(i, y);
        while let Some(y) = early.remove(&next) {
            out.push(y);
            next += 1;
        }
    }
    feeder.join().unwrap();
    workers.into_iter().for_each(|w| w.join().unwrap());
    out
}

fn pattern_fan_out(order: Order) -> Vec<u64> {
    threads::FanOut::new(WORKERS)
        .unwrap()
        .order(order)
        .map(0..N, work)
        .unwrap()
}

/// Input order with a window of only twice the workers.
fn pattern_fan_out_small_window() -> Vec<u64> {
    threads::FanOut::new(WORKERS)
        .unwrap()
        .window(2 * WORKERS)
        .unwrap()
        .map(0..N, work)
        .unwrap()
}

type Job = Box<dyn FnOnce() + Send>;

/// WORKERS threads serving a bounded(CAP) queue of boxed jobs; each job
/// answers on its own bounded(1) channel, as the pool's handles do.
fn raw_pool() -> u64 {
    let (queue_tx, queue_rx) = bounded::<Job>(CAP);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let rx = queue_rx.clone();
            thread::spawn(move || rx.iter().for_each(|job| job()))
        })
        .collect();
    let mut replies = Vec::with_capacity(N as usize);
    for x in 0..N {
        let (tx, rx) = bounded(1);
        queue_tx
            .send(Box::new(move || {
                let _ = tx.send(work(x));
            }))
            .unwrap();
        replies.push(rx);
    }
    drop(queue_tx);
    let sum = replies.into_iter().map(|r| r.recv().unwrap()).sum();
    workers.into_iter().for_each(|w| w.join().unwrap());
    sum
}

fn pattern_pool() -> u64 {
    let pool = threads::WorkerPool::new(WORKERS, CAP).unwrap();
    let handles: Vec<_> = (0..N)
        .map(|x| pool.submit(move || work(x)).unwrap())
        .collect();
    pool.shutdown();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

fn patterns(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch05_patterns");
    // One iteration takes milliseconds: ten samples of equal size (flat
    // sampling) are enough, and keep the slowest function near a second.
    group.sampling_mode(SamplingMode::Flat);

    group.bench_function("pipeline_raw", |b| b.iter(raw_pipeline));
    group.bench_function("pipeline", |b| b.iter(pattern_pipeline));
    group.bench_function("fan_out_raw", |b| b.iter(raw_fan_out));
    group.bench_function("fan_out_unordered", |b| {
        b.iter(|| pattern_fan_out(Order::Completion))
    });
    group.bench_function("fan_out_ordered_raw", |b| b.iter(raw_fan_out_ordered));
    group.bench_function("fan_out_ordered", |b| {
        b.iter(|| pattern_fan_out(Order::Input))
    });
    group.bench_function("fan_out_ordered_window_4", |b| {
        b.iter(pattern_fan_out_small_window)
    });
    group.bench_function("pool_raw", |b| b.iter(raw_pool));
    group.bench_function("pool", |b| b.iter(pattern_pool));
    group.finish();
}

/// The goals' pairs, timed in turn (`benches/paired`): what `cargo xtask
/// bench` judges, as criterion's sequential figures drift with the machine.
fn interleaved() {
    let Some(mut paired) = paired::Paired::from_args("ch05_patterns", BUDGET) else {
        return;
    };
    use paired::Arm;
    paired.compare(
        vec![
            Arm::new("pipeline_raw", raw_pipeline),
            Arm::new("pipeline", pattern_pipeline),
            Arm::new("pipeline_raw_wide", raw_pipeline_wide),
        ],
        None,
    );
    paired.compare(
        vec![
            Arm::new("fan_out_raw", raw_fan_out),
            Arm::new("fan_out_unordered", || pattern_fan_out(Order::Completion)),
        ],
        None,
    );
    paired.compare(
        vec![
            Arm::new("fan_out_ordered_raw", raw_fan_out_ordered),
            Arm::new("fan_out_ordered", || pattern_fan_out(Order::Input)),
        ],
        None,
    );
    paired.compare(
        vec![
            Arm::new("pool_raw", raw_pool),
            Arm::new("pool", pattern_pool),
        ],
        None,
    );
    paired.record();
}

/// Criterion's measurement time, and each comparison's.
const BUDGET: Duration = Duration::from_secs(1);

mod paired;
mod profile;

criterion_group! {
    name = benches;
    // Set here rather than on the group so that command-line flags (the quick
    // run of `cargo xtask test`) still override them. About 20 s on 2 cores.
    // `-- --profile-time 5` samples each benchmark and records its stacks.
    config = Criterion::default()
        .with_profiler(profile::Folded::default())
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(BUDGET)
        .sample_size(10)
        // Ten samples need far fewer than the default 100,000 bootstrap
        // resamples, and the book reads criterion's estimates, not its plots.
        .nresamples(10_000)
        .without_plots();
    targets = patterns
}
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
