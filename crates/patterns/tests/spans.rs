//! The span structure the chapter claims: every step's span is a child of
//! the span that produced its item; a batch is a new trace linked to its items.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Capture, attr_i64, by_id, quiet_planned_panics};
use opentelemetry::trace::{SpanId, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::Sampler;
use otlp_csp_patterns::{Order, Traced, Tracing, tasks, threads};

#[test]
fn pipeline_stage_spans_form_a_chain_per_item() {
    let capture = Capture::new();
    let producer = capture.tracer();
    let pipeline = threads::Pipeline::new(2)
        .unwrap()
        .tracing(capture.tracing())
        .stage("parse", |x: u32| x + 1)
        .stage("double", |x| x * 2)
        .stage("print", |x| x);
    let (input, output) = pipeline.start().unwrap();
    let mut roots = Vec::new();
    for i in 0..5u32 {
        let cx = Context::current_with_span(producer.start(format!("produce {i}")));
        roots.push(cx.span().span_context().clone());
        input.send_traced(Traced::new(cx.clone(), i)).unwrap();
        cx.span().end();
    }
    drop(input);
    let outputs: Vec<Traced<u32>> =
        std::iter::from_fn(|| output.recv_traced()).collect();
    output.join().unwrap();

    let spans = capture.spans();
    assert_eq!(spans.len(), 5 * 4);
    for (root, out) in roots.iter().zip(&outputs) {
        // The output carries the last stage's span; walk up to the producer.
        let print = by_id(&spans, out.cx.span().span_context().span_id());
        let double = by_id(&spans, print.parent_span_id);
        let parse = by_id(&spans, double.parent_span_id);
        assert_eq!(
            [&*print.name, &*double.name, &*parse.name],
            ["process print", "process double", "process parse"]
        );
        assert_eq!(parse.parent_span_id, root.span_id());
        for s in [print, double, parse] {
            assert_eq!(s.span_context.trace_id(), root.trace_id());
        }
    }
}

/// A step whose span the sampler drops records nothing, yet its span
/// context goes on with the item: the stage's code sees it, and the next
/// stage's span is its child, with it as a *local* parent. The sampler here
/// drops roots and records the children of an unsampled local parent (but
/// not of a remote one), so a lost or remote context records no `process b`.
#[test]
fn an_unsampled_step_still_hands_its_span_context_on() {
    let sampler = Sampler::parent_based(Sampler::AlwaysOff)
        .with_local_parent_not_sampled(Sampler::AlwaysOn);
    let capture = Capture::with_sampler(sampler);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_a = {
        let seen = seen.clone();
        move |x: u32| {
            let cx = Context::current();
            seen.lock().unwrap().push(cx.span().span_context().clone());
            x
        }
    };
    let out = threads::Pipeline::new(2)
        .unwrap()
        .tracing(capture.tracing())
        .stage("a", seen_in_a)
        .stage("b", |x| x + 1)
        .run(0..3)
        .unwrap();
    assert_eq!(out, [1, 2, 3]);

    assert!(capture.named("process a").is_empty(), "roots are dropped");
    let seen = seen.lock().unwrap();
    let b = capture.named("process b");
    assert_eq!((seen.len(), b.len()), (3, 3));
    for (a, b) in seen.iter().zip(&b) {
        assert!(a.is_valid() && !a.is_sampled() && !a.is_remote(), "{a:?}");
        assert_eq!(b.parent_span_id, a.span_id());
        assert!(!b.parent_span_is_remote);
        assert_eq!(b.span_context.trace_id(), a.trace_id());
    }
}

#[test]
fn fan_out_item_spans_are_children_of_the_caller() {
    let capture = Capture::new();
    let caller = Context::current_with_span(capture.tracer().start("caller"));
    let caller_id = caller.span().span_context().span_id();
    let fan = threads::FanOut::new(3)
        .unwrap()
        .order(Order::Completion)
        .tracing(capture.tracing());
    let out = {
        let _guard = caller.clone().attach();
        fan.map(0..20u64, |x| x * x).unwrap()
    };
    assert_eq!(out.len(), 20);
    let items = capture.named("process fan_out");
    assert_eq!(items.len(), 20);
    let mut indices: Vec<i64> =
        items.iter().map(|s| attr_i64(s, "item.index")).collect();
    indices.sort();
    assert_eq!(indices, (0..20).collect::<Vec<_>>());
    assert!(items.iter().all(|s| s.parent_span_id == caller_id));
}

#[test]
fn pool_job_spans_are_children_of_the_submitter_and_panics_are_errors() {
    quiet_planned_panics();
    let capture = Capture::new();
    let pool = threads::WorkerPool::with_tracing(2, 4, capture.tracing()).unwrap();
    let submitter = Context::current_with_span(capture.tracer().start("submit"));
    let submitter_id = submitter.span().span_context().span_id();
    let (ok, bad) = {
        let _guard = submitter.clone().attach();
        let ok = pool
            .submit(|| {
                // Code in a job runs in the job span's context.
                Context::current()
                    .span()
                    .set_attribute(KeyValue::new("job", "ok"));
            })
            .unwrap();
        let bad = pool.submit(|| panic!("planned: job fails")).unwrap();
        (ok, bad)
    };
    ok.join().unwrap();
    assert!(bad.join().is_err());
    pool.shutdown();

    let jobs = capture.named("process pool");
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|s| s.parent_span_id == submitter_id));
    let failed: Vec<_> = jobs
        .iter()
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].status,
        Status::error("panicked: planned: job fails")
    );
    let ok_span = jobs.iter().find(|s| s.status != failed[0].status).unwrap();
    assert!(ok_span.attributes.contains(&KeyValue::new("job", "ok")));
}

#[test]
fn a_batch_is_a_new_trace_linked_to_each_item() {
    let capture = Capture::new();
    let producer = capture.tracer();
    let (tx, rx) = crossbeam_channel::bounded(16);
    let mut items = Vec::new();
    for i in 0..7 {
        let cx = Context::current_with_span(producer.start("produce"));
        items.push(cx.span().span_context().clone());
        tx.send(Traced::new(cx.clone(), i)).unwrap();
        cx.span().end();
    }
    drop(tx);
    let batcher = threads::Batcher::new(3, Duration::from_millis(50))
        .unwrap()
        .tracing(capture.tracing());
    let mut sizes = Vec::new();
    assert_eq!(batcher.run(&rx, |batch| sizes.push(batch.len())), 3);
    assert_eq!(sizes, [3, 3, 1]);

    let batches = capture.named("process batch");
    assert_eq!(batches.len(), 3);
    let mut linked = Vec::new();
    for b in &batches {
        assert_eq!(b.parent_span_id, SpanId::INVALID, "a batch span is a root");
        assert!(
            items
                .iter()
                .all(|i| i.trace_id() != b.span_context.trace_id())
        );
        let count = attr_i64(b, "messaging.batch.message_count");
        assert_eq!(count, b.links.len() as i64);
        linked.extend(b.links.iter().map(|l| l.span_context.clone()));
    }
    assert_eq!(linked, items, "each item linked once, in arrival order");
}

#[test]
fn tracing_off_records_nothing_but_still_carries_the_context() {
    let capture = Capture::new();
    let producer = capture.tracer();
    let cx = Context::current_with_span(producer.start("produce"));
    let seen = threads::Pipeline::new(1)
        .unwrap()
        .tracing(Tracing::off())
        .stage("look", |_: ()| {
            Context::current().span().span_context().span_id()
        })
        .start()
        .map(|(input, output)| {
            input.send_traced(Traced::new(cx.clone(), ())).unwrap();
            drop(input);
            let seen = output.recv().unwrap();
            output.join().unwrap();
            seen
        })
        .unwrap();
    cx.span().end();
    assert_eq!(seen, cx.span().span_context().span_id());
    assert_eq!(capture.spans().len(), 1, "only the producer's own span");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_stage_work_is_nested_under_the_stage_span() {
    let capture = Capture::new();
    let inner = capture.tracer();
    let (input, mut output) = tasks::Pipeline::new(2)
        .unwrap()
        .tracing(capture.tracing())
        .stage("fetch", move |x: u32| {
            // Started from the current context: the stage's span.
            let span = inner.start("inner");
            async move {
                drop(span);
                x + 1
            }
        })
        .start()
        .unwrap();
    let root = Context::current_with_span(capture.tracer().start("root"));
    input
        .send_traced(Traced::new(root.clone(), 1))
        .await
        .unwrap();
    drop(input);
    assert_eq!(output.recv().await, Some(2));
    output.join().await.unwrap();
    root.span().end();

    let spans = capture.spans();
    let fetch = &capture.named("process fetch")[0];
    let inner = &capture.named("inner")[0];
    assert_eq!(fetch.parent_span_id, root.span().span_context().span_id());
    assert_eq!(inner.parent_span_id, fetch.span_context.span_id());
    assert_eq!(spans.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_pool_and_fan_out_spans_are_children_of_the_caller() {
    let capture = Capture::new();
    let caller = Context::current_with_span(capture.tracer().start("caller"));
    let caller_id = caller.span().span_context().span_id();
    let pool = tasks::WorkerPool::with_tracing(2, 2, capture.tracing()).unwrap();
    let fan = tasks::FanOut::new(4).unwrap().tracing(capture.tracing());
    use opentelemetry::context::FutureExt as _;
    let results = async {
        let job = pool.submit(async { 7 }).await.unwrap();
        let squares = fan.map(0..10u64, |x| async move { x * x }).await.unwrap();
        (job.join().await.unwrap(), squares)
    }
    .with_context(caller.clone())
    .await;
    pool.shutdown().await;
    assert_eq!(results.0, 7);
    assert_eq!(results.1, (0..10).map(|x| x * x).collect::<Vec<_>>());
    let jobs = capture.named("process pool");
    let items = capture.named("process fan_out");
    assert_eq!((jobs.len(), items.len()), (1, 10));
    assert!(
        jobs.iter()
            .chain(&items)
            .all(|s| s.parent_span_id == caller_id)
    );
}

#[test]
fn a_no_op_tracer_is_recognised_and_the_probe_of_a_real_one_is_not_exported() {
    use opentelemetry::trace::noop::NoopTracer;
    assert_eq!(
        format!("{:?}", Tracing::with_tracer(NoopTracer::new())),
        "Tracing(off)"
    );
    // No global provider is installed in this test binary.
    assert_eq!(format!("{:?}", Tracing::global()), "Tracing(off)");
    let capture = Capture::new();
    assert_eq!(format!("{:?}", capture.tracing()), "Tracing(on)");
    capture.provider.force_flush().unwrap();
    assert!(capture.spans().is_empty(), "the probe span was exported");
}
