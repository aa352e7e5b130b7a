//! Chapter 4: how fast values move through each kind of channel.
//!
//! Throughput: one iteration is one u64 value moved from a producer to a
//! consumer (SPSC, MPSC with 4 producers, MPMC with 2 + 2), at capacities
//! 1, 64, 1024 and unbounded. Each sample starts the threads once and moves
//! all of its iterations' values in one stream, so thread start-up is not
//! counted per value. Latency: one iteration is one round trip, a value sent
//! to an echoing thread or task and sent back.
//!
//! Run with `cargo xtask bench` (or `cargo bench --bench ch04_channels`).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use tokio::runtime::{Builder, Runtime};

/// The capacities compared; `None` is an unbounded channel.
const CAPACITIES: [Option<usize>; 4] = [Some(1), Some(64), Some(1024), None];

/// Producer `p`'s part of `total` values, so that the parts add up exactly.
fn share(total: u64, producers: usize, p: usize) -> u64 {
    let producers = producers as u64;
    total / producers + u64::from((p as u64) < total % producers)
}

/// The benchmark parameter: the capacity as a bare number, so that the
/// book's tables sort the rows 1, 64, 1024, then `unbounded`.
fn cap_id(cap: Option<usize>) -> String {
    cap.map_or_else(|| "unbounded".to_owned(), |n| n.to_string())
}

// ANCHOR: blocking_api
/// The two operations a benchmark needs from a blocking channel, so that one
/// driver measures std, crossbeam-channel and flume the same way.
trait Tx: Clone + Send + 'static {
    fn put(&self, value: u64);
}
trait Rx: Send + 'static {
    /// `None` once every sender is gone and the buffer is empty.
    fn take(&self) -> Option<u64>;
}
// ANCHOR_END: blocking_api

impl Rx for std::sync::mpsc::Receiver<u64> {
    fn take(&self) -> Option<u64> {
        self.recv().ok()
    }
}
impl Tx for crossbeam_channel::Sender<u64> {
    fn put(&self, value: u64) {
        self.send(value).unwrap();
    }
}
impl Rx for crossbeam_channel::Receiver<u64> {
    fn take(&self) -> Option<u64> {
        self.recv().ok()
    }
}
impl Tx for flume::Sender<u64> {
    fn put(&self, value: u64) {
        self.send(value).unwrap();
    }
}
impl Rx for flume::Receiver<u64> {
    fn take(&self) -> Option<u64> {
        self.recv().ok()
    }
}

/// A blocking channel of the given capacity, as sender and receivers.
type Make<T, R> = fn(Option<usize>, usize) -> (T, Vec<R>);

fn std_mpsc(
    cap: Option<usize>,
    _consumers: usize,
) -> (StdTx, Vec<std::sync::mpsc::Receiver<u64>>) {
    match cap {
        Some(n) => {
            let (tx, rx) = std::sync::mpsc::sync_channel(n);
            (StdTx::Bounded(tx), vec![rx])
        }
        None => {
            let (tx, rx) = std::sync::mpsc::channel();
            (StdTx::Unbounded(tx), vec![rx])
        }
    }
}

/// std has two sender types; the benchmark needs one.
#[derive(Clone)]
enum StdTx {
    Bounded(std::sync::mpsc::SyncSender<u64>),
    Unbounded(std::sync::mpsc::Sender<u64>),
}
impl Tx for StdTx {
    fn put(&self, value: u64) {
        match self {
            StdTx::Bounded(tx) => tx.send(value).unwrap(),
            StdTx::Unbounded(tx) => tx.send(value).unwrap(),
        }
    }
}

fn crossbeam(
    cap: Option<usize>,
    consumers: usize,
) -> (
    crossbeam_channel::Sender<u64>,
    Vec<crossbeam_channel::Receiver<u64>>,
) {
    let (tx, rx) =
        cap.map_or_else(crossbeam_channel::unbounded, crossbeam_channel::bounded);
    (tx, vec![rx; consumers])
}

fn flume(
    cap: Option<usize>,
    consumers: usize,
) -> (flume::Sender<u64>, Vec<flume::Receiver<u64>>) {
    let (tx, rx) = cap.map_or_else(flume::unbounded, flume::bounded);
    (tx, vec![rx; consumers])
}

// ANCHOR: threads
// ANCHOR: producers
/// Moves `total` values from `producers` threads to `consumers` threads and
/// returns the time from the moment all threads are ready until the last
/// value is received.
fn move_values<T: Tx, R: Rx>(
    make: Make<T, R>,
    cap: Option<usize>,
    producers: usize,
    consumers: usize,
    total: u64,
) -> Duration {
    let (tx, rxs) = make(cap, consumers);
    let start = Arc::new(Barrier::new(producers + consumers + 1));
    let mut threads = Vec::new();
    for p in 0..producers {
        let (tx, start) = (tx.clone(), start.clone());
        let count = share(total, producers, p);
        threads.push(thread::spawn(move || {
            start.wait();
            for i in 0..count {
                tx.put(i);
            }
        }));
    }
    // ANCHOR_END: producers
    // ANCHOR: consumers
    drop(tx); // the consumers stop when the last producer's sender is dropped
    for rx in rxs {
        let start = start.clone();
        threads.push(thread::spawn(move || {
            start.wait();
            while let Some(value) = rx.take() {
                black_box(value);
            }
        }));
    }
    start.wait();
    let began = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    began.elapsed()
}
// ANCHOR_END: consumers
// ANCHOR_END: threads

/// The same for tokio's mpsc: producer tasks and one consumer task.
fn move_values_tokio(
    rt: &Runtime,
    cap: Option<usize>,
    producers: usize,
    total: u64,
) -> Duration {
    rt.block_on(async {
        let began = Instant::now();
        let consumer = match cap {
            Some(n) => {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(n);
                for p in 0..producers {
                    let (tx, count) = (tx.clone(), share(total, producers, p));
                    tokio::spawn(async move {
                        for i in 0..count {
                            tx.send(i).await.unwrap();
                        }
                    });
                }
                tokio::spawn(async move {
                    while let Some(value) = rx.recv().await {
                        black_box(value);
                    }
                })
            }
            None => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                for p in 0..producers {
                    let (tx, count) = (tx.clone(), share(total, producers, p));
                    tokio::spawn(async move {
                        for i in 0..count {
                            tx.send(i).unwrap();
                        }
                    });
                }
                tokio::spawn(async move {
                    while let Some(value) = rx.recv().await {
                        black_box(value);
                    }
                })
            }
        };
        consumer.await.unwrap();
        began.elapsed()
    })
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    // One worker per core of this machine, as #[tokio::main] would start.
    Builder::new_multi_thread().build().unwrap()
}

/// One throughput group: every blocking channel, then tokio's mpsc on both
/// runtimes when `with_tokio` (tokio's mpsc has a single receiver).
fn throughput(
    c: &mut Criterion,
    group: &str,
    producers: usize,
    consumers: usize,
    with_tokio: bool,
) {
    let mut g = c.benchmark_group(group);
    for cap in CAPACITIES {
        let id = cap_id(cap);
        if consumers == 1 {
            g.bench_function(BenchmarkId::new("std_mpsc", &id), |b| {
                b.iter_custom(|iters| {
                    move_values(std_mpsc, cap, producers, consumers, iters)
                })
            });
        }
        g.bench_function(BenchmarkId::new("crossbeam", &id), |b| {
            b.iter_custom(|iters| {
                move_values(crossbeam, cap, producers, consumers, iters)
            })
        });
        g.bench_function(BenchmarkId::new("flume", &id), |b| {
            b.iter_custom(|iters| {
                move_values(flume, cap, producers, consumers, iters)
            })
        });
        if with_tokio {
            let rt = current_thread();
            g.bench_function(BenchmarkId::new("tokio_current_thread", &id), |b| {
                b.iter_custom(|iters| move_values_tokio(&rt, cap, producers, iters))
            });
            let rt = multi_thread();
            g.bench_function(BenchmarkId::new("tokio_multi_thread", &id), |b| {
                b.iter_custom(|iters| move_values_tokio(&rt, cap, producers, iters))
            });
        }
    }
    g.finish();
}

fn spsc(c: &mut Criterion) {
    throughput(c, "ch04_spsc", 1, 1, true);
}

fn mpsc(c: &mut Criterion) {
    throughput(c, "ch04_mpsc", 4, 1, true);
}

fn mpmc(c: &mut Criterion) {
    throughput(c, "ch04_mpmc", 2, 2, false);
}

// ANCHOR: round_trip
/// `iters` round trips between this thread and an echo thread over a pair of
/// blocking channels made by `make`.
fn ping_pong<T: Tx, R: Rx>(make: Make<T, R>, cap: usize, iters: u64) -> Duration {
    let (ping_tx, mut ping_rx) = make(Some(cap), 1);
    let (pong_tx, mut pong_rx) = make(Some(cap), 1);
    let (ping_rx, pong_rx) = (ping_rx.remove(0), pong_rx.remove(0));
    let echo = thread::spawn(move || {
        while let Some(value) = ping_rx.take() {
            pong_tx.put(value);
        }
    });
    // One round trip first, so the echo thread is running when timing starts.
    ping_tx.put(0);
    pong_rx.take();
    let began = Instant::now();
    for i in 0..iters {
        ping_tx.put(i);
        black_box(pong_rx.take());
    }
    let elapsed = began.elapsed();
    drop(ping_tx);
    echo.join().unwrap();
    elapsed
}
// ANCHOR_END: round_trip

/// Round trips between two tasks over two tokio mpsc channels of capacity 1.
fn ping_pong_tokio_mpsc(rt: &Runtime, iters: u64) -> Duration {
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
        tokio::spawn(async move {
            while let Some(value) = ping_rx.recv().await {
                pong_tx.send(value).await.unwrap();
            }
        });
        let client = tokio::spawn(async move {
            let began = Instant::now();
            for i in 0..iters {
                ping_tx.send(i).await.unwrap();
                black_box(pong_rx.recv().await);
            }
            began.elapsed()
        });
        client.await.unwrap()
    })
}

/// Request and reply: each request carries a oneshot sender for its answer,
/// the usual way to call an actor task.
fn request_reply_tokio(rt: &Runtime, iters: u64) -> Duration {
    type Request = (u64, tokio::sync::oneshot::Sender<u64>);
    rt.block_on(async {
        let (requests, mut inbox) = tokio::sync::mpsc::channel::<Request>(1);
        tokio::spawn(async move {
            while let Some((value, reply)) = inbox.recv().await {
                let _ = reply.send(value);
            }
        });
        let client = tokio::spawn(async move {
            let began = Instant::now();
            for i in 0..iters {
                let (reply, answer) = tokio::sync::oneshot::channel();
                requests.send((i, reply)).await.unwrap();
                black_box(answer.await.unwrap());
            }
            began.elapsed()
        });
        client.await.unwrap()
    })
}

fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("ch04_round_trip");
    for cap in [0, 1] {
        let id = cap.to_string();
        g.bench_function(BenchmarkId::new("std_mpsc", &id), |b| {
            b.iter_custom(|iters| ping_pong(std_mpsc, cap, iters))
        });
        g.bench_function(BenchmarkId::new("crossbeam", &id), |b| {
            b.iter_custom(|iters| ping_pong(crossbeam, cap, iters))
        });
        g.bench_function(BenchmarkId::new("flume", &id), |b| {
            b.iter_custom(|iters| ping_pong(flume, cap, iters))
        });
    }
    for (flavour, rt) in [
        ("current_thread", current_thread()),
        ("multi_thread", multi_thread()),
    ] {
        g.bench_function(BenchmarkId::new("tokio_mpsc_cap_1", flavour), |b| {
            b.iter_custom(|iters| ping_pong_tokio_mpsc(&rt, iters))
        });
        g.bench_function(BenchmarkId::new("tokio_oneshot_reply", flavour), |b| {
            b.iter_custom(|iters| request_reply_tokio(&rt, iters))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Set here rather than on the groups so that command-line flags (the
    // quick run of `cargo xtask test`) still override them. About 60 s in all
    // on 2 cores.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(500))
        .sample_size(10)
        // Ten samples need far fewer than the default 100,000 bootstrap
        // resamples; the default makes the analysis of 58 benchmarks take
        // longer than measuring them in the quick debug-build run.
        .nresamples(10_000)
        // The book reads criterion's estimates, not its plots; drawing them
        // would take longer than measuring.
        .without_plots();
    targets = spsc, mpsc, mpmc, round_trip
}
criterion_main!(benches);
