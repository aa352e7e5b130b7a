//! A worker pool runs each accepted job exactly once, whatever panics and
//! whenever shutdown comes; every refused submit gets an error.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{quiet_planned_panics, within_hang_guard};
use otlp_csp_patterns::{JobError, PoolStats, SubmitError, tasks, threads};
use proptest::prelude::*;

/// What happened to one job, from the submitter's side.
#[derive(Debug)]
enum Fate {
    Refused(SubmitError),
    Ran(Result<usize, JobError>),
}

fn check(runs: &[AtomicU32], panics: &[bool], fates: &[Fate], stats: PoolStats) {
    let mut accepted = 0;
    for (id, fate) in fates.iter().enumerate() {
        let ran = runs[id].load(Ordering::SeqCst);
        match fate {
            Fate::Refused(_) => assert_eq!(ran, 0, "job {id} was refused but ran"),
            Fate::Ran(result) => {
                accepted += 1;
                assert_eq!(ran, 1, "job {id} was accepted and ran {ran} times");
                match (panics[id], result) {
                    (false, Ok(v)) => assert_eq!(*v, id),
                    (true, Err(JobError::Panicked(m))) => {
                        assert_eq!(m, "planned: job panics")
                    }
                    other => panic!("job {id}: unexpected outcome {other:?}"),
                }
            }
        }
    }
    let panicked = fates
        .iter()
        .enumerate()
        .filter(|(id, f)| matches!(f, Fate::Ran(_)) && panics[*id])
        .count() as u64;
    assert_eq!(
        stats,
        PoolStats {
            accepted,
            completed: accepted - panicked,
            panicked
        }
    );
}

fn job(
    runs: &Arc<Vec<AtomicU32>>,
    id: usize,
    panics: bool,
) -> impl FnOnce() -> usize + use<> {
    let runs = runs.clone();
    move || {
        runs[id].fetch_add(1, Ordering::SeqCst);
        if panics {
            panic!("planned: job panics");
        }
        id
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn threads_pool_runs_each_accepted_job_once(
        workers in 1usize..4,
        queue in 1usize..6,
        panics in prop::collection::vec(prop::bool::weighted(0.2), 0..80),
        shutdown_after in 0usize..80,
        use_try in any::<bool>(),
    ) {
        quiet_planned_panics();
        let n = panics.len();
        let runs: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(0)).collect());
        let pool = threads::WorkerPool::new(workers, queue).unwrap();
        // A second thread shuts the pool down once `shutdown_after` submits
        // were attempted, racing the submits that follow.
        let attempts = Arc::new(AtomicU32::new(0));
        let closer = {
            let (pool, attempts) = (pool.clone(), attempts.clone());
            std::thread::spawn(move || {
                while (attempts.load(Ordering::SeqCst) as usize) < shutdown_after.min(n) {
                    std::thread::yield_now();
                }
                pool.shutdown()
            })
        };
        let mut handles = Vec::new();
        for (id, &p) in panics.iter().enumerate() {
            let submitted = if use_try {
                pool.try_submit(job(&runs, id, p))
            } else {
                pool.submit(job(&runs, id, p))
            };
            attempts.fetch_add(1, Ordering::SeqCst);
            handles.push(submitted);
        }
        let fates: Vec<Fate> = handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => Fate::Ran(h.join()),
                Err(e) => Fate::Refused(e),
            })
            .collect();
        let stats = closer.join().unwrap();
        // After shutdown every submit is refused.
        prop_assert_eq!(pool.submit(|| ()).unwrap_err(), SubmitError::ShutDown);
        prop_assert_eq!(pool.try_submit(|| ()).unwrap_err(), SubmitError::ShutDown);
        check(&runs, &panics, &fates, stats);
        if !use_try {
            // A waiting submit is only refused by shutdown, never for being full.
            prop_assert!(fates.iter().all(|f| !matches!(f, Fate::Refused(SubmitError::Full))));
        }
    }

    #[test]
    fn tokio_pool_runs_each_accepted_job_once(
        workers in 1usize..4,
        queue in 1usize..6,
        panics in prop::collection::vec(prop::bool::weighted(0.2), 0..80),
        shutdown_after in 0usize..80,
        use_try in any::<bool>(),
    ) {
        quiet_planned_panics();
        let n = panics.len();
        let runs: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(0)).collect());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let (fates, stats) = rt.block_on(async {
            let pool = tasks::WorkerPool::new(workers, queue).unwrap();
            let attempts = Arc::new(AtomicU32::new(0));
            let closer = {
                let (pool, attempts) = (pool.clone(), attempts.clone());
                tokio::spawn(async move {
                    while (attempts.load(Ordering::SeqCst) as usize) < shutdown_after.min(n) {
                        tokio::task::yield_now().await;
                    }
                    pool.shutdown().await
                })
            };
            let mut handles = Vec::new();
            for (id, &p) in panics.iter().enumerate() {
                let work = job(&runs, id, p);
                let fut = async move {
                    tokio::task::yield_now().await;
                    work()
                };
                let submitted = if use_try {
                    pool.try_submit(fut)
                } else {
                    pool.submit(fut).await
                };
                attempts.fetch_add(1, Ordering::SeqCst);
                handles.push(submitted);
            }
            let mut fates = Vec::new();
            for h in handles {
                fates.push(match h {
                    Ok(h) => Fate::Ran(h.join().await),
                    Err(e) => Fate::Refused(e),
                });
            }
            let stats = closer.await.unwrap();
            assert_eq!(pool.submit(async {}).await.unwrap_err(), SubmitError::ShutDown);
            assert_eq!(pool.try_submit(async {}).unwrap_err(), SubmitError::ShutDown);
            (fates, stats)
        });
        check(&runs, &panics, &fates, stats);
    }
}

#[test]
fn a_full_queue_refuses_try_submit_and_the_worker_survives_a_panic() {
    quiet_planned_panics();
    let pool = threads::WorkerPool::new(1, 1).unwrap();
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    // The only worker is busy until released; the queue holds one more job.
    let busy = pool.submit(move || gate.recv().unwrap()).unwrap();
    let queued = within_hang_guard({
        let pool = pool.clone();
        move || loop {
            // Retry until the worker has taken `busy` off the queue.
            match pool.try_submit(|| panic!("planned: queued job panics")) {
                Ok(h) => break h,
                Err(SubmitError::Full) => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    });
    assert_eq!(pool.try_submit(|| 0).unwrap_err(), SubmitError::Full);
    release.send(()).unwrap();
    busy.join().unwrap();
    assert_eq!(
        queued.join().unwrap_err(),
        JobError::Panicked("planned: queued job panics".into())
    );
    // The same (only) worker still serves.
    assert_eq!(pool.submit(|| 42).unwrap().join(), Ok(42));
    let stats = pool.shutdown();
    assert_eq!((stats.accepted, stats.completed, stats.panicked), (3, 2, 1));
}

#[test]
fn shutdown_from_inside_a_job_does_not_deadlock() {
    let pool = threads::WorkerPool::new(2, 2).unwrap();
    let inner = pool.clone();
    let handle = pool.submit(move || inner.shutdown()).unwrap();
    within_hang_guard(move || handle.join().unwrap());
    assert_eq!(pool.submit(|| ()).unwrap_err(), SubmitError::ShutDown);
    pool.shutdown();
}

#[test]
fn tokio_jobs_are_lost_not_hung_when_the_runtime_goes() {
    // A pool on a runtime that is shut down under it: the handle says so.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = rt.block_on(async {
        let pool = tasks::WorkerPool::new(1, 1).unwrap();
        pool.submit(std::future::pending::<()>()).await.unwrap()
    });
    rt.shutdown_background();
    let result =
        within_hang_guard(move || futures::executor::block_on(handle.join()));
    assert_eq!(result.unwrap_err(), JobError::Lost);
}
