//! Bad input gets a clear error: zero sizes, no runtime, a closed pipeline,
//! a panicking stage, a closed limiter, an exhausted rate.

mod common;

use std::time::Duration;

use common::quiet_planned_panics;
use otlp_csp_patterns::{BuildError, Rate, RunError, SendError, tasks, threads};

fn zero(result: Result<impl Sized, BuildError>) -> String {
    match result {
        Err(e @ BuildError::Zero { .. }) => e.to_string(),
        Err(other) => panic!("expected a zero-size error, got {other}"),
        Ok(_) => panic!("a zero size was accepted"),
    }
}

#[test]
fn zero_sizes_are_refused_when_a_pattern_is_built() {
    assert_eq!(
        zero(threads::Pipeline::<u8, u8>::new(0)),
        "pipeline capacity must be at least 1, got 0"
    );
    assert_eq!(
        zero(threads::FanOut::new(0)),
        "worker count must be at least 1, got 0"
    );
    assert_eq!(
        zero(threads::FanOut::new(2).unwrap().window(0)),
        "fan-out window must be at least 1, got 0"
    );
    assert_eq!(
        zero(threads::WorkerPool::new(0, 4)),
        "worker count must be at least 1, got 0"
    );
    assert_eq!(
        zero(threads::WorkerPool::new(2, 0)),
        "queue capacity must be at least 1, got 0"
    );
    assert_eq!(
        zero(threads::Batcher::new(0, Duration::ZERO)),
        "batch size must be at least 1, got 0"
    );
    assert_eq!(
        zero(
            threads::Batcher::new(1, Duration::ZERO)
                .and_then(|b| b.links_per_span(0))
        ),
        "links per span must be at least 1, got 0"
    );
    assert_eq!(
        zero(Rate::per_second(0, 1)),
        "rate per second must be at least 1, got 0"
    );
    assert_eq!(
        zero(Rate::per_second(1, 0)),
        "rate burst must be at least 1, got 0"
    );
    assert_eq!(
        zero(tasks::Pipeline::<u8, u8>::new(0)),
        "pipeline capacity must be at least 1, got 0"
    );
    assert_eq!(
        zero(tasks::FanOut::new(0)),
        "fan-out window must be at least 1, got 0"
    );
    assert_eq!(
        zero(tasks::Limiter::new(0)),
        "limiter permits must be at least 1, got 0"
    );
}

#[test]
fn sizes_beyond_the_primitive_are_refused() {
    let e = tasks::Limiter::new(usize::MAX).unwrap_err();
    assert!(matches!(e, BuildError::TooLarge { .. }), "{e}");
}

#[test]
fn tokio_patterns_outside_a_runtime_are_an_error_not_a_panic() {
    let msg = |e: BuildError| e.to_string();
    assert_eq!(
        msg(tasks::WorkerPool::new(1, 1).err().unwrap()),
        "a tokio worker pool must be started inside a tokio runtime"
    );
    let p = tasks::Pipeline::new(1)
        .unwrap()
        .stage("s", |x: u8| async move { x });
    assert_eq!(
        msg(p.start().err().unwrap()),
        "a tokio pipeline must be started inside a tokio runtime"
    );
    let fan = tasks::FanOut::new(1).unwrap();
    let run = futures::executor::block_on(fan.map(0..3, |x: u8| async move { x }));
    assert!(matches!(
        run,
        Err(RunError::Build(BuildError::NoRuntime { .. }))
    ));
}

#[test]
fn sending_into_a_pipeline_nobody_drains_is_closed_and_returns_the_value() {
    let (input, output) = threads::Pipeline::new(1)
        .unwrap()
        .stage("s", |x: String| x)
        .start()
        .unwrap();
    output.join().unwrap(); // the consumer gives up; the stage stops
    let err = input.send("kept".to_owned()).unwrap_err();
    assert_eq!(err.to_string(), "the receiving side is gone");
    assert_eq!(err.into_inner(), "kept");
}

#[test]
fn a_panicking_stage_is_named_by_join_and_ends_the_run() {
    quiet_planned_panics();
    let p = threads::Pipeline::new(2)
        .unwrap()
        .stage("parse", |x: u32| x)
        .stage("check", |x: u32| {
            if x == 3 {
                panic!("planned: bad record {x}");
            }
            x
        });
    let err = p.run(0..100).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stage `check` panicked: planned: bad record 3"
    );
}

#[tokio::test]
async fn a_panicking_tokio_stage_is_named_by_join() {
    quiet_planned_panics();
    let (input, mut output) = tasks::Pipeline::new(2)
        .unwrap()
        .stage("fetch", |x: u32| async move {
            if x == 1 {
                panic!("planned: fetch failed");
            }
            x
        })
        .start()
        .unwrap();
    input.send(0).await.unwrap();
    input.send(1).await.unwrap();
    assert_eq!(output.recv().await, Some(0));
    assert_eq!(output.recv().await, None, "the stage is gone");
    // With the stage gone, sends fail instead of waiting forever.
    assert!(matches!(input.send(2).await, Err(SendError::Closed(2))));
    let err = output.join().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "stage `fetch` panicked: planned: fetch failed"
    );
}

#[tokio::test]
async fn a_closed_limiter_refuses_and_an_exhausted_rate_says_when() {
    let limiter = tasks::Limiter::new(1).unwrap();
    assert_eq!(limiter.run(async { 5 }).await, Ok(5));
    limiter.close();
    let err = limiter.run(async { 6 }).await.unwrap_err();
    assert_eq!(err.to_string(), "the limiter is closed");

    let rate = Rate::per_second(1, 2).unwrap();
    rate.try_acquire().unwrap();
    rate.try_acquire().unwrap();
    let limited = rate.try_acquire().unwrap_err();
    assert!(limited.retry_after > Duration::ZERO);
    assert!(limited.retry_after <= Duration::from_secs(1));
}
