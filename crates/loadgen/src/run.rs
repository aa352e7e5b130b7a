//! The two loops. Each connection is one task that sends one request at a
//! time, so N connections means at most N requests in flight.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::recorder::{Outcome, Recorder, Report};
use crate::{Bounds, LoadError, Schedule};

/// One connection to the service under load: sends a request, waits for
/// the whole answer.
pub trait Connection: Send + 'static {
    /// Sends one request and reads its answer.
    fn call(&mut self) -> impl Future<Output = Outcome> + Send;
}

/// How long after the last scheduled start the load waits for answers
/// before it gives up on them (and counts them as timed out).
pub const GRACE: Duration = Duration::from_secs(10);

// ANCHOR: open_loop
// ANCHOR: open_loop_dispatch
/// Sends requests at `schedule`'s rate over `connections` until `bounds`
/// is reached. A dispatcher thread releases request `i` at `t0 + i/rate`
/// into a queue; a free connection takes it and records its latency from
/// the time it was *due*. If every connection is busy, requests wait in the
/// queue and that wait counts: the stall is not hidden (coordinated omission).
pub async fn open_loop<C: Connection>(
    connections: Vec<C>,
    schedule: Schedule,
    bounds: Bounds,
) -> Result<Report, LoadError> {
    if connections.is_empty() {
        return Err(LoadError::Bounds(
            "at least one connection is needed".into(),
        ));
    }
    let total = schedule.len(&bounds);
    let t0 = Instant::now() + Duration::from_millis(1);
    let hard_deadline = t0 + bounds.max_duration() + GRACE;
    // Bounded: a stalled service makes the dispatcher wait, not grow memory;
    // the due times it sends later are still the scheduled ones.
    let (tx, rx) = flume::bounded::<Instant>(4096);
    let dispatcher = std::thread::spawn(move || {
        for i in 0..total {
            let due = t0 + schedule.due(i);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if tx.send(due).is_err() {
                return; // every connection gave up
            }
        }
    });
    // ANCHOR_END: open_loop_dispatch
    // ANCHOR: open_loop_connections
    let workers: Vec<_> = connections
        .into_iter()
        .map(|mut conn| {
            let rx = rx.clone();
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut unsent = 0;
                while let Ok(due) = rx.recv_async().await {
                    if Instant::now() >= hard_deadline {
                        unsent += 1;
                        continue;
                    }
                    let sent = Instant::now();
                    let outcome =
                        tokio::time::timeout_at(hard_deadline.into(), conn.call())
                            .await;
                    let outcome = outcome.unwrap_or(Outcome::TimedOut);
                    rec.record(due, sent, Instant::now(), outcome);
                }
                (rec, unsent)
            })
        })
        .collect();
    drop(rx);
    finish(workers, t0, Some(dispatcher)).await
}
// ANCHOR_END: open_loop_connections
// ANCHOR_END: open_loop

// ANCHOR: closed_loop
/// Keeps every connection busy: each sends its next request as soon as the
/// previous one is answered, until `bounds` is reached. The throughput is
/// the service's capacity (with this many connections); the latencies are
/// service times, since no request is ever due before it is sent.
pub async fn closed_loop<C: Connection>(
    connections: Vec<C>,
    bounds: Bounds,
) -> Result<Report, LoadError> {
    if connections.is_empty() {
        return Err(LoadError::Bounds(
            "at least one connection is needed".into(),
        ));
    }
    let t0 = Instant::now();
    let stop_at = t0 + bounds.max_duration();
    let hard_deadline = stop_at + GRACE;
    let tickets = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = connections
        .into_iter()
        .map(|mut conn| {
            let tickets = tickets.clone();
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                while Instant::now() < stop_at
                    && tickets.fetch_add(1, Ordering::Relaxed)
                        < bounds.max_requests()
                {
                    let sent = Instant::now();
                    let outcome =
                        tokio::time::timeout_at(hard_deadline.into(), conn.call())
                            .await;
                    let outcome = outcome.unwrap_or(Outcome::TimedOut);
                    rec.record(sent, sent, Instant::now(), outcome);
                }
                (rec, 0)
            })
        })
        .collect();
    finish(workers, t0, None).await
}
// ANCHOR_END: closed_loop

async fn finish(
    workers: Vec<tokio::task::JoinHandle<(Recorder, u64)>>,
    t0: Instant,
    dispatcher: Option<std::thread::JoinHandle<()>>,
) -> Result<Report, LoadError> {
    let mut all = Recorder::default();
    let mut unsent = 0;
    for w in workers {
        let (rec, u) = w.await.map_err(|e| {
            LoadError::Bounds(format!("a connection task failed: {e}"))
        })?;
        all.merge(&rec);
        unsent += u;
    }
    if let Some(d) = dispatcher {
        // The queue is closed once every worker is gone, so this returns.
        tokio::task::spawn_blocking(move || d.join())
            .await
            .map_err(|e| LoadError::Bounds(format!("the dispatcher failed: {e}")))?
            .map_err(|_| LoadError::Bounds("the dispatcher panicked".into()))?;
    }
    Ok(all.report(t0.elapsed(), unsent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// A simulated service: answers after `delay`, once after `stall`.
    struct Fake {
        delay: Duration,
        stall: Option<(Duration, Arc<AtomicBool>)>,
        calls: Arc<AtomicU64>,
    }

    impl Connection for Fake {
        async fn call(&mut self) -> Outcome {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let mut d = self.delay;
            if let Some((stall, once)) = &self.stall
                && n == 50
                && !once.swap(true, Ordering::SeqCst)
            {
                d = *stall;
            }
            tokio::time::sleep(d).await;
            Outcome::Ok
        }
    }

    fn fakes(
        n: usize,
        delay: Duration,
        stall: Option<Duration>,
    ) -> (Vec<Fake>, Arc<AtomicU64>) {
        let calls = Arc::new(AtomicU64::new(0));
        let once = Arc::new(AtomicBool::new(false));
        let conns = (0..n)
            .map(|_| Fake {
                delay,
                stall: stall.map(|s| (s, once.clone())),
                calls: calls.clone(),
            })
            .collect();
        (conns, calls)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_open_loop_sends_exactly_the_schedule() {
        let (conns, calls) = fakes(4, Duration::ZERO, None);
        let bounds = Bounds::new(1_000_000, Duration::from_millis(200)).unwrap();
        let r = open_loop(conns, Schedule::new(500.0).unwrap(), bounds)
            .await
            .unwrap();
        // 200 ms at 500/s: requests due at 0, 2, ... 198 ms.
        assert_eq!(calls.load(Ordering::SeqCst), 100);
        assert_eq!(r.ok, 100);
        assert!(r.all_answered());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_count_bound_stops_both_loops() {
        let bounds = Bounds::new(37, Duration::from_secs(60)).unwrap();
        let (conns, calls) = fakes(3, Duration::ZERO, None);
        let r = closed_loop(conns, bounds).await.unwrap();
        assert_eq!((r.ok, calls.load(Ordering::SeqCst)), (37, 37));
        let (conns, calls) = fakes(3, Duration::ZERO, None);
        let r = open_loop(conns, Schedule::new(10_000.0).unwrap(), bounds)
            .await
            .unwrap();
        assert_eq!((r.ok, calls.load(Ordering::SeqCst)), (37, 37));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_time_bound_stops_the_closed_loop() {
        let bounds = Bounds::new(10_000_000, Duration::from_millis(100)).unwrap();
        let (conns, calls) = fakes(2, Duration::from_millis(10), None);
        let r = closed_loop(conns, bounds).await.unwrap();
        // Each connection starts requests only before 100 ms: at most 11 each.
        let n = calls.load(Ordering::SeqCst);
        assert!((2..=22).contains(&n), "{n} calls");
        assert_eq!(r.ok, n);
    }

    /// A real run of the open loop against a service that stalls once for
    /// 300 ms, with one connection: requests due during the stall queue up,
    /// and their latency (from the due time) shows it while the service
    /// time does not. The margins are wide: the property is the shape,
    /// not a speed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stall_shows_in_latency_not_in_service_time() {
        let (conns, _) = fakes(1, Duration::ZERO, Some(Duration::from_millis(300)));
        let bounds = Bounds::new(1_000_000, Duration::from_millis(600)).unwrap();
        let r = open_loop(conns, Schedule::new(500.0).unwrap(), bounds)
            .await
            .unwrap();
        assert!(r.all_answered());
        // About 150 requests were due during the stall.
        let slow_latency = r.latency.count_between(100_000_000, u64::MAX);
        let slow_service = r.service.count_between(100_000_000, u64::MAX);
        assert!(slow_latency >= 50, "{slow_latency} slow by latency");
        assert_eq!(slow_service, 1, "only the stalled request itself");
    }
}
