//! The messaging conventions on the patterns' real spans: kinds, required
//! attributes, names, batch counts, and how failures are recorded. The
//! check runs on every pattern of both flavours, and planted bugs (spans
//! changed the way a wrong instrumentation would make them) show that it
//! rejects each kind of mistake.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Capture, HANG_GUARD, quiet_planned_panics};
use opentelemetry::trace::{
    SpanBuilder, SpanKind, Status, TraceContextExt, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{SdkTracer, SpanData};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE, MESSAGING_BATCH_MESSAGE_COUNT,
    MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE,
    MESSAGING_SYSTEM,
};
use otlp_csp_patterns::messaging::{
    Destination, ERROR_CANCELLED, ERROR_PANIC, PROCESS, SEND,
};
use otlp_csp_patterns::{BATCH_LINKS, Order, Traced, Tracing, tasks, threads};

/// The scope of the patterns' tracer in [`Capture::tracing`]: every span of
/// this scope must be a messaging span (or a `batch.links` span).
const PATTERNS: &str = "test";

// ---- the check ------------------------------------------------------------

fn text<'a>(span: &'a SpanData, key: &str) -> Option<&'a str> {
    let kv = span.attributes.iter().find(|kv| kv.key.as_str() == key)?;
    match &kv.value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

fn int(span: &SpanData, key: &str) -> Option<i64> {
    let kv = span.attributes.iter().find(|kv| kv.key.as_str() == key)?;
    match kv.value {
        Value::I64(n) => Some(n),
        _ => None,
    }
}

fn event_text<'a>(
    event: &'a opentelemetry::trace::Event,
    key: &str,
) -> Option<&'a str> {
    let kv = event.attributes.iter().find(|kv| kv.key.as_str() == key)?;
    match &kv.value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Everything in `spans` that breaks the messaging and error conventions as
/// the patterns apply them (`otlp_csp_patterns::messaging`); empty if none.
/// Spans of other scopes are checked when they say they are messaging spans
/// (a messaging kind or `messaging.operation.type`).
fn messaging_problems(spans: &[SpanData]) -> Vec<String> {
    let mut problems = Vec::new();
    let links_of_children = batch_link_children(spans);
    for s in spans {
        let who = format!("`{}`", s.name);
        let ours = s.instrumentation_scope.name() == PATTERNS;
        if ours && s.name == BATCH_LINKS {
            continue; // carries a batch's links; counted with the batch below
        }
        let kind = s.span_kind.clone();
        let operation = text(s, MESSAGING_OPERATION_TYPE);
        let claims = operation.is_some()
            || matches!(kind, SpanKind::Producer | SpanKind::Consumer);
        if ours || claims {
            messaging_span(s, &who, &mut problems);
        }
        if let Some(count) = int(s, MESSAGING_BATCH_MESSAGE_COUNT) {
            // Links the span kept: a dropped link names no item.
            let own = s.links.len();
            let id = s.span_context.span_id();
            let links = own + links_of_children.get(&id).copied().unwrap_or(0);
            if count != links as i64 {
                problems.push(format!("{who}: {count} messages, {links} links"));
            }
        } else if operation == Some(PROCESS) && !s.links.is_empty() {
            problems.push(format!("{who}: links but no batch message count"));
        }
        error_recording(s, &who, &mut problems);
    }
    problems
}

/// Kind, required attributes and name of one messaging span.
fn messaging_span(s: &SpanData, who: &str, problems: &mut Vec<String>) {
    let want = match text(s, MESSAGING_OPERATION_TYPE) {
        Some(SEND) => SpanKind::Producer,
        Some(PROCESS) => SpanKind::Consumer,
        Some(other) => {
            problems.push(format!(
                "{who}: operation type {other}, not send or process"
            ));
            return;
        }
        None => {
            problems.push(format!("{who}: no {MESSAGING_OPERATION_TYPE}"));
            return;
        }
    };
    if s.span_kind != want {
        problems.push(format!("{who}: kind {:?}, not {want:?}", s.span_kind));
    }
    for key in [
        MESSAGING_SYSTEM,
        MESSAGING_OPERATION_NAME,
        MESSAGING_DESTINATION_NAME,
    ] {
        if text(s, key).is_none_or(str::is_empty) {
            problems.push(format!("{who}: no {key}"));
        }
    }
    if let (Some(op), Some(dest)) = (
        text(s, MESSAGING_OPERATION_NAME),
        text(s, MESSAGING_DESTINATION_NAME),
    ) && s.name != format!("{op} {dest}")
    {
        problems.push(format!("{who}: name is not `{op} {dest}`"));
    }
}

/// Status Error if and only if `error.type`, with a description; a panic
/// has an `exception` event whose type is the span's `error.type`.
fn error_recording(s: &SpanData, who: &str, problems: &mut Vec<String>) {
    let error_type = text(s, ERROR_TYPE);
    match (&s.status, error_type) {
        (Status::Error { description }, Some(_)) if description.is_empty() => {
            problems.push(format!("{who}: status Error without a description"));
        }
        (Status::Error { .. }, None) => {
            problems.push(format!("{who}: status Error without {ERROR_TYPE}"))
        }
        (Status::Ok | Status::Unset, Some(t)) => problems.push(format!(
            "{who}: {ERROR_TYPE} {t} on a span that did not fail"
        )),
        _ => {}
    }
    let exceptions: Vec<_> =
        s.events.iter().filter(|e| e.name == "exception").collect();
    if error_type == Some(ERROR_PANIC) && exceptions.is_empty() {
        problems.push(format!("{who}: a panic without an exception event"));
    }
    for e in exceptions {
        let kind = event_text(e, EXCEPTION_TYPE);
        if kind != error_type {
            problems.push(format!(
                "{who}: exception type {kind:?}, error type {error_type:?}"
            ));
        }
        if event_text(e, EXCEPTION_MESSAGE).is_none_or(str::is_empty) {
            problems.push(format!("{who}: an exception event without a message"));
        }
    }
}

/// Links held by each batch span's `batch.links` children, by the batch's id.
fn batch_link_children(
    spans: &[SpanData],
) -> HashMap<opentelemetry::trace::SpanId, usize> {
    let mut links = HashMap::new();
    for s in spans.iter().filter(|s| s.name == BATCH_LINKS) {
        *links.entry(s.parent_span_id).or_insert(0) += s.links.len();
    }
    links
}

// ---- the patterns, run for real --------------------------------------------

/// A PRODUCER span for sending one item to `destination`, ended at once;
/// its context goes with the item.
fn sent(capture: &Capture, destination: Destination) -> Context {
    let cx = Context::current_with_span(destination.send().start(&capture.tracer()));
    cx.span().end();
    cx
}

/// How many spans of each kind, to show that a check saw what it should.
fn kinds(spans: &[SpanData]) -> HashMap<String, usize> {
    let mut kinds = HashMap::new();
    for s in spans {
        *kinds.entry(format!("{:?}", s.span_kind)).or_insert(0) += 1;
    }
    kinds
}

fn with_error(spans: &[SpanData], error_type: &str) -> Vec<SpanData> {
    let has = |s: &&SpanData| text(s, ERROR_TYPE) == Some(error_type);
    spans.iter().filter(has).cloned().collect()
}

fn exception_message(span: &SpanData) -> Option<&str> {
    let e = span.events.iter().find(|e| e.name == "exception")?;
    event_text(e, EXCEPTION_MESSAGE)
}

/// Three items sent into a two-stage pipeline of the threads flavour whose
/// spans go to `tracing`.
fn threads_pipeline(capture: &Capture, tracing: Tracing) -> Vec<SpanData> {
    let (input, output) = threads::Pipeline::new(2)
        .unwrap()
        .tracing(tracing)
        .stage("parse", |x: u32| x + 1)
        .stage("store", |x| x)
        .start()
        .unwrap();
    for i in 0..3 {
        let cx = sent(capture, Destination::threads("parse"));
        input.send_traced(Traced::new(cx, i)).unwrap();
    }
    drop(input);
    assert_eq!(std::iter::from_fn(|| output.recv()).count(), 3);
    output.join().unwrap();
    capture.spans()
}

#[test]
fn a_pipeline_hop_is_a_producer_span_then_consumer_spans() {
    let capture = Capture::new();
    let spans = threads_pipeline(&capture, capture.tracing());
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let want = [("Producer".to_owned(), 3), ("Consumer".to_owned(), 6)];
    assert_eq!(kinds(&spans), HashMap::from(want));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_pipeline_hop_follows_the_conventions() {
    let capture = Capture::new();
    let (input, mut output) = tasks::Pipeline::new(2)
        .unwrap()
        .tracing(capture.tracing())
        .stage("fetch", |x: u32| async move { x * 2 })
        .start()
        .unwrap();
    for i in 0..3 {
        let cx = sent(&capture, Destination::tasks("fetch"));
        input.send_traced(Traced::new(cx, i)).await.unwrap();
    }
    drop(input);
    while output.recv().await.is_some() {}
    output.join().await.unwrap();
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let fetch = capture.named("process fetch");
    assert_eq!(fetch.len(), 3);
    assert!(
        fetch
            .iter()
            .all(|s| text(s, MESSAGING_SYSTEM) == Some("tokio"))
    );
}

#[test]
fn fan_out_items_are_consumer_spans() {
    let capture = Capture::new();
    let caller = Context::current_with_span(capture.tracer().start("caller"));
    let fan = threads::FanOut::new(2).unwrap().tracing(capture.tracing());
    let squares = {
        let _guard = caller.clone().attach();
        fan.order(Order::Completion)
            .map(0..5u64, |x| x * x)
            .unwrap()
    };
    caller.span().end();
    assert_eq!(squares.len(), 5);
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    assert_eq!(capture.named("process fan_out").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_tokio_fan_out_item_records_an_exception() {
    quiet_planned_panics();
    let capture = Capture::new();
    let fan = tasks::FanOut::new(4).unwrap().tracing(capture.tracing());
    let run = fan
        .map(0..4u32, |x| async move {
            assert!(x != 2, "planned: item two");
            x
        })
        .await;
    assert!(run.is_err());
    // The run stops at the panic; the other tasks may or may not have ended.
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let failed = with_error(&spans, ERROR_PANIC);
    assert_eq!(failed.len(), 1);
    assert_eq!(exception_message(&failed[0]), Some("planned: item two"));
}

/// A pool of the threads flavour runs one good job and one that panics.
fn pool_with_a_panic(capture: &Capture) -> Vec<SpanData> {
    quiet_planned_panics();
    let pool = threads::WorkerPool::with_tracing(2, 4, capture.tracing()).unwrap();
    let ok = pool.submit(|| 1).unwrap();
    let bad = pool
        .submit(|| -> i32 { panic!("planned: job fails") })
        .unwrap();
    assert_eq!(ok.join(), Ok(1));
    assert!(bad.join().is_err());
    pool.shutdown();
    capture.spans()
}

#[test]
fn a_panicking_job_records_an_exception_and_an_error_type() {
    let capture = Capture::new();
    let spans = pool_with_a_panic(&capture);
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let failed = with_error(&spans, ERROR_PANIC);
    assert_eq!(failed.len(), 1, "the check saw one panic");
    assert_eq!(exception_message(&failed[0]), Some("planned: job fails"));
    assert_eq!(
        failed[0].status,
        Status::error("panicked: planned: job fails")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_tokio_job_records_an_exception() {
    quiet_planned_panics();
    let capture = Capture::new();
    let pool = tasks::WorkerPool::with_tracing(1, 2, capture.tracing()).unwrap();
    let bad = pool
        .submit(async { panic!("planned: async job") })
        .await
        .unwrap();
    assert!(bad.join().await.is_err());
    pool.shutdown().await;
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let failed = with_error(&spans, ERROR_PANIC);
    assert_eq!(exception_message(&failed[0]), Some("planned: async job"));
}

#[test]
fn a_panicking_stage_records_the_panic_message_before_it_ends_the_run() {
    quiet_planned_panics();
    let capture = Capture::new();
    let run = threads::Pipeline::new(1)
        .unwrap()
        .tracing(capture.tracing())
        .stage("check", |x: u32| {
            assert!(x < 2, "planned: bad record {x}");
            x
        })
        .run(0..4);
    assert!(run.is_err());
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let failed = with_error(&spans, ERROR_PANIC);
    assert_eq!(failed.len(), 1);
    assert_eq!(exception_message(&failed[0]), Some("planned: bad record 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_step_is_an_error_of_type_cancelled() {
    let capture = Capture::new();
    let token = tasks::CancellationToken::new();
    let started = Arc::new(AtomicBool::new(false));
    let (input, output) = {
        let started = started.clone();
        tasks::Pipeline::new(1)
            .unwrap()
            .tracing(capture.tracing())
            .cancel_on(token.clone())
            .stage("stuck", move |_: u32| {
                started.store(true, Ordering::SeqCst);
                std::future::pending::<u32>() // never finishes on its own
            })
            .start()
            .unwrap()
    };
    input.send(1).await.unwrap();
    while !started.load(Ordering::SeqCst) {
        tokio::task::yield_now().await;
    }
    token.cancel();
    drop(input);
    tokio::time::timeout(HANG_GUARD, output.join())
        .await
        .expect("the pipeline stops when cancelled")
        .unwrap();
    let spans = capture.spans();
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let cancelled = with_error(&spans, ERROR_CANCELLED);
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].status, Status::error("abandoned (cancelled)"));
}

/// One batch of `n` items, each sent under a producer span, through a
/// batcher whose channel is `orders`.
fn one_batch(capture: &Capture, n: usize) -> Vec<SpanData> {
    let orders = Destination::threads("orders");
    let (tx, rx) = crossbeam_channel::bounded(n);
    for i in 0..n {
        tx.send(Traced::new(sent(capture, orders), i)).unwrap();
    }
    drop(tx);
    let batches = threads::Batcher::new(n, Duration::from_secs(1))
        .unwrap()
        .destination("orders")
        .tracing(capture.tracing())
        .run(&rx, |_| {});
    assert_eq!(batches, 1);
    capture.spans()
}

#[test]
fn a_batch_counts_its_messages_and_links_each_one() {
    // 300 items: the batch span holds 128 links, two `batch.links` the rest.
    let capture = Capture::new();
    let spans = one_batch(&capture, 300);
    assert_eq!(messaging_problems(&spans), Vec::<String>::new());
    let batch = capture.named("process orders");
    assert_eq!(batch.len(), 1);
    assert_eq!(int(&batch[0], MESSAGING_BATCH_MESSAGE_COUNT), Some(300));
    assert_eq!(capture.named(BATCH_LINKS).len(), 2);
}

// ---- planted bugs: the check rejects each ---------------------------------

/// A planted bug in the instrumentation: a tracer that drops the kind the
/// patterns ask for, as patterns that never set one would make their spans.
struct LeftInternal(SdkTracer);

impl Tracer for LeftInternal {
    type Span = opentelemetry_sdk::trace::Span;

    fn build_with_context(&self, builder: SpanBuilder, cx: &Context) -> Self::Span {
        self.0
            .build_with_context(builder.with_kind(SpanKind::Internal), cx)
    }
}

#[test]
fn the_check_rejects_consumer_spans_left_internal() {
    let capture = Capture::new();
    let planted = LeftInternal(capture.provider.tracer(PATTERNS));
    let spans = threads_pipeline(&capture, Tracing::with_tracer(planted));
    let problems = messaging_problems(&spans);
    assert_eq!(problems.len(), 6, "{problems:?}");
    for stage in ["parse", "store"] {
        let problem = format!("`process {stage}`: kind Internal, not Consumer");
        assert_eq!(problems.iter().filter(|p| **p == problem).count(), 3);
    }
}

#[test]
fn the_check_rejects_a_producer_span_without_its_kind() {
    let capture = Capture::new();
    let mut spans = threads_pipeline(&capture, capture.tracing());
    let send = spans.iter_mut().find(|s| s.name == "send parse").unwrap();
    send.span_kind = SpanKind::Internal;
    assert_eq!(
        messaging_problems(&spans),
        ["`send parse`: kind Internal, not Producer"]
    );
}

#[test]
fn the_check_rejects_a_span_named_without_its_operation() {
    // Planted bug: the stage's own name, as the patterns named it before.
    let capture = Capture::new();
    let mut spans = threads_pipeline(&capture, capture.tracing());
    let stage = spans
        .iter_mut()
        .find(|s| s.name == "process parse")
        .unwrap();
    stage.name = "parse".into();
    assert_eq!(
        messaging_problems(&spans),
        ["`parse`: name is not `process parse`"]
    );
}

#[test]
fn the_check_rejects_a_batch_count_off_by_one() {
    let capture = Capture::new();
    let mut spans = one_batch(&capture, 300);
    let batch = spans
        .iter_mut()
        .find(|s| s.name == "process orders")
        .unwrap();
    for kv in &mut batch.attributes {
        if kv.key.as_str() == MESSAGING_BATCH_MESSAGE_COUNT {
            *kv = KeyValue::new(MESSAGING_BATCH_MESSAGE_COUNT, 301);
        }
    }
    assert_eq!(
        messaging_problems(&spans),
        ["`process orders`: 301 messages, 300 links"]
    );
}

#[test]
fn the_check_counts_the_links_of_the_batch_links_children() {
    // Planted bug: a batch whose extra links were never made.
    let capture = Capture::new();
    let mut spans = one_batch(&capture, 300);
    spans.retain(|s| s.name != BATCH_LINKS);
    assert_eq!(
        messaging_problems(&spans),
        ["`process orders`: 300 messages, 128 links"]
    );
}

#[test]
fn the_check_rejects_a_panic_without_an_exception_event() {
    let capture = Capture::new();
    let mut spans = pool_with_a_panic(&capture);
    let failed = spans
        .iter_mut()
        .find(|s| s.status != Status::Unset)
        .unwrap();
    failed.events.events.clear();
    assert_eq!(
        messaging_problems(&spans),
        ["`process pool`: a panic without an exception event"]
    );
}

#[test]
fn the_check_rejects_an_error_status_without_an_error_type() {
    // Planted bug: a failure recorded as the patterns did before, with a
    // status and nothing else.
    let capture = Capture::new();
    let mut spans = pool_with_a_panic(&capture);
    let failed = spans
        .iter_mut()
        .find(|s| s.status != Status::Unset)
        .unwrap();
    failed.events.events.clear();
    failed.attributes.retain(|kv| kv.key.as_str() != ERROR_TYPE);
    assert_eq!(
        messaging_problems(&spans),
        ["`process pool`: status Error without error.type"]
    );
}
