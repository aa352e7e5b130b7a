//! T3: a span tree is sound for happens-before (every parent/child edge is
//! one: the parent starts before the child) but not complete (happens-before
//! relates spans the tree does not connect). Random runs of Part I's
//! patterns, spans captured in memory, events stamped with vector clocks that
//! travel in the messages' payloads, apart from the span context. The check
//! also requires the edges the patterns must make, and checks (rather than
//! assumes) structured concurrency, which fan-outs and pools satisfy and
//! pipelines do not. Planted propagation bugs show each part able to fail.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use book_results::{Measurement, record};
use common::runner;
use csp_models::clocks::VectorClock;
use csp_models::spans::{CausalLog, ProcessClock, SpanTree};
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanId, TraceContextExt, Tracer, TracerProvider,
};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanData,
};
use otlp_csp_patterns::{Order, Traced, Tracing, tasks, threads};
use proptest::prelude::*;

const CASES: u32 = 48;
const STAGES: [&str; 4] = ["stage0", "stage1", "stage2", "stage3"];
/// The span names of those stages (the patterns name a stage's span
/// `process {stage}`, after the messaging conventions).
const STAGE_SPANS: [&str; 4] = [
    "process stage0",
    "process stage1",
    "process stage2",
    "process stage3",
];

/// An item and the vector clock of the process that sent it: the clock is
/// part of the payload, not of the span context the patterns carry.
type Msg = (usize, VectorClock);

/// A planted propagation bug: what the patterns' tracer does with the
/// parent context it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mutant {
    /// Nothing planted: the patterns as they are.
    None,
    /// Every pattern span starts from an empty context: a fresh root.
    Orphan,
    /// Every pattern span is parented to the pattern span started last, in
    /// any thread or task: one context slot shared by all, in place of the
    /// context that came with the item.
    SharedSlot,
}

// ANCHOR: t3_planted
/// The SDK's tracer with a [`Mutant`] planted in front of it.
struct Planted {
    inner: SdkTracer,
    bug: Mutant,
    last: Mutex<Option<Context>>,
}

impl Tracer for Planted {
    type Span = opentelemetry_sdk::trace::Span;

    fn build_with_context(&self, builder: SpanBuilder, cx: &Context) -> Self::Span {
        // The patterns probe their tracer once, with telemetry suppressed.
        if cx.is_telemetry_suppressed() || self.bug == Mutant::None {
            return self.inner.build_with_context(builder, cx);
        }
        if self.bug == Mutant::Orphan {
            return self.inner.build_with_context(builder, &Context::new());
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let parent = last.clone().unwrap_or_else(|| cx.clone());
        let span = self.inner.build_with_context(builder, &parent);
        let sc = span.span_context().clone();
        *last = Some(Context::new().with_remote_span_context(sc));
        span
    }
}
// ANCHOR_END: t3_planted

struct Capture {
    provider: SdkTracerProvider,
    exporter: InMemorySpanExporter,
    bug: Mutant,
}

impl Capture {
    fn new(bug: Mutant) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        Self {
            provider,
            exporter,
            bug,
        }
    }
    /// The tracer the patterns get (with the planted bug, if any).
    fn tracing(&self) -> Tracing {
        Tracing::with_tracer(Planted {
            inner: self.provider.tracer("patterns"),
            bug: self.bug,
            last: Mutex::default(),
        })
    }
    /// The test's own tracer, for the spans the work starts from.
    fn tracer(&self) -> SdkTracer {
        self.provider.tracer("test")
    }
    fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("in-memory spans")
    }
}

fn current_span() -> SpanId {
    Context::current().span().span_context().span_id()
}

fn span_of(cx: &Context) -> SpanId {
    cx.span().span_context().span_id()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    Pipeline { stages: usize, capacity: usize },
    FanOut { workers: usize, completion: bool },
    Pool { workers: usize, queue: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scenario {
    pattern: Pattern,
    tokio: bool,
    items: usize,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let pattern = prop_oneof![
        (1usize..=4, 1usize..=3)
            .prop_map(|(stages, capacity)| Pattern::Pipeline { stages, capacity }),
        (1usize..=4, any::<bool>()).prop_map(|(workers, completion)| {
            Pattern::FanOut {
                workers,
                completion,
            }
        }),
        (1usize..=3, 1usize..=4)
            .prop_map(|(workers, queue)| Pattern::Pool { workers, queue }),
    ];
    (pattern, any::<bool>(), 1usize..=6).prop_map(|(pattern, tokio, items)| {
        Scenario {
            pattern,
            tokio,
            items,
        }
    })
}

fn run(s: Scenario, bug: Mutant) -> (Vec<SpanData>, Arc<CausalLog>) {
    let capture = Capture::new(bug);
    let log = Arc::new(CausalLog::new());
    let (c, l, n) = (&capture, &log, s.items);
    match (s.pattern, s.tokio) {
        (Pattern::Pipeline { stages, capacity }, false) => {
            pipeline_threads(c, l, stages, capacity, n)
        }
        (Pattern::Pipeline { stages, capacity }, true) => {
            pipeline_tasks(c, l, stages, capacity, n)
        }
        (
            Pattern::FanOut {
                workers,
                completion,
            },
            false,
        ) => fan_threads(c, l, workers, completion, n),
        (
            Pattern::FanOut {
                workers,
                completion,
            },
            true,
        ) => fan_tasks(c, l, workers, completion, n),
        (Pattern::Pool { workers, queue }, false) => {
            pool_threads(c, l, workers, queue, n)
        }
        (Pattern::Pool { workers, queue }, true) => {
            pool_tasks(c, l, workers, queue, n)
        }
    }
    (capture.spans(), log)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

// ANCHOR: t3_stage
/// A stage is one process with a clock of its own. The sender's clock comes
/// in the payload, a field apart from the span context the pipeline
/// carries; the stage merges it and records one event inside its span.
fn stage(log: &Arc<CausalLog>) -> impl FnMut(Msg) -> Msg + Send + 'static {
    let (log, mut clock) = (log.clone(), log.process());
    move |(item, stamp)| {
        clock.receive(&stamp);
        clock.event(&log, current_span(), "step");
        (item, clock.stamp())
    }
}
// ANCHOR_END: t3_stage

/// Starts a span of the test's own (the item, the caller, the submitter) in
/// a new process, and records the span's first event.
fn open(
    capture: &Capture,
    log: &CausalLog,
    name: &'static str,
) -> (Context, ProcessClock) {
    let cx = Context::current_with_span(capture.tracer().start(name));
    let mut clock = log.process();
    clock.event(log, span_of(&cx), "start");
    (cx, clock)
}

/// Merges the clocks that came back, records the span's last event, ends it.
fn close(
    cx: &Context,
    mut clock: ProcessClock,
    log: &CausalLog,
    back: impl IntoIterator<Item = VectorClock>,
) {
    for stamp in back {
        clock.receive(&stamp);
    }
    clock.event(log, span_of(cx), "end");
    cx.span().end();
}

fn pipeline_threads(
    capture: &Capture,
    log: &Arc<CausalLog>,
    stages: usize,
    capacity: usize,
    items: usize,
) {
    let mut p = threads::Pipeline::<Msg, Msg>::new(capacity)
        .unwrap()
        .tracing(capture.tracing());
    for name in &STAGES[..stages] {
        p = p.stage(name, stage(log));
    }
    let (input, output) = p.start().unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // The producer is one process; each item is a span of its own.
            for i in 0..items {
                let (cx, clock) = open(capture, log, "item");
                let msg = Traced::new(cx.clone(), (i, clock.stamp()));
                input.send_traced(msg).unwrap();
                close(&cx, clock, log, []);
            }
            drop(input);
        });
        while output.recv().is_some() {}
    });
    output.join().unwrap();
}

fn pipeline_tasks(
    capture: &Capture,
    log: &Arc<CausalLog>,
    stages: usize,
    capacity: usize,
    items: usize,
) {
    runtime().block_on(async {
        let mut p = tasks::Pipeline::<Msg, Msg>::new(capacity)
            .unwrap()
            .tracing(capture.tracing());
        for name in &STAGES[..stages] {
            let mut f = stage(log);
            p = p.stage(name, move |m| std::future::ready(f(m)));
        }
        let (input, mut output) = p.start().unwrap();
        let feeder = async {
            for i in 0..items {
                let (cx, clock) = open(capture, log, "item");
                let msg = Traced::new(cx.clone(), (i, clock.stamp()));
                input.send_traced(msg).await.unwrap();
                close(&cx, clock, log, []);
            }
            drop(input);
        };
        let drain = async { while output.recv().await.is_some() {} };
        tokio::join!(feeder, drain);
        output.join().await.unwrap();
    });
}

/// A fan-out item is a process of its own: it starts from the caller's
/// clock, records one event in its span, and hands its clock back.
fn fan_item(log: &CausalLog, stamp: &VectorClock) -> VectorClock {
    let mut clock = log.process();
    clock.receive(stamp);
    clock.event(log, current_span(), "item");
    clock.stamp()
}

fn order(completion: bool) -> Order {
    if completion {
        Order::Completion
    } else {
        Order::Input
    }
}

fn fan_threads(
    capture: &Capture,
    log: &Arc<CausalLog>,
    workers: usize,
    completion: bool,
    items: usize,
) {
    let fan = threads::FanOut::new(workers)
        .unwrap()
        .order(order(completion))
        .tracing(capture.tracing());
    let (cx, clock) = open(capture, log, "caller");
    let inputs = vec![clock.stamp(); items];
    let back = {
        let _guard = cx.clone().attach();
        fan.map(inputs, |stamp| fan_item(log, &stamp)).unwrap()
    };
    close(&cx, clock, log, back);
}

fn fan_tasks(
    capture: &Capture,
    log: &Arc<CausalLog>,
    window: usize,
    completion: bool,
    items: usize,
) {
    runtime().block_on(async {
        let fan = tasks::FanOut::new(window)
            .unwrap()
            .order(order(completion))
            .tracing(capture.tracing());
        let (cx, clock) = open(capture, log, "caller");
        let inputs = vec![clock.stamp(); items];
        let l = log.clone();
        let back = fan
            .map(inputs, move |stamp| {
                std::future::ready(fan_item(&l, &stamp))
            })
            .with_context(cx.clone())
            .await
            .unwrap();
        close(&cx, clock, log, back);
    });
}

// ANCHOR: t3_siblings
/// Jobs 0 and 1 are siblings (both children of the submitter's span), and
/// each job is a process of its own. Job 0 sends its clock over a channel
/// and job 1 waits for it: a happens-before edge between two spans,
/// neither of which is an ancestor of the other.
fn pool_threads(
    capture: &Capture,
    log: &Arc<CausalLog>,
    workers: usize,
    queue: usize,
    jobs: usize,
) {
    let pool = threads::WorkerPool::with_tracing(workers, queue, capture.tracing())
        .unwrap();
    let (cx, clock) = open(capture, log, "submit");
    let (tx, rx) = crossbeam_channel::bounded::<VectorClock>(1);
    let mut handles = Vec::new();
    // ANCHOR_END: t3_siblings
    // ANCHOR: t3_siblings_jobs
    {
        let _guard = cx.clone().attach();
        for j in 0..jobs {
            let (log, stamp) = (log.clone(), clock.stamp());
            let (tx, rx, mut me) = (tx.clone(), rx.clone(), log.process());
            let job = move || {
                me.receive(&stamp);
                if j == 1 {
                    me.receive(&rx.recv().unwrap()); // waits for job 0
                }
                let what = ["send", "receive"].get(j).copied();
                me.event(&log, current_span(), what.unwrap_or("job"));
                if j == 0 {
                    tx.send(me.stamp()).unwrap();
                }
                me.stamp() // the result carries the job's clock back
            };
            handles.push(pool.submit(job).unwrap());
        }
    }
    let back: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    close(&cx, clock, log, back);
    // ANCHOR_END: t3_siblings_jobs
    pool.shutdown();
}

fn pool_tasks(
    capture: &Capture,
    log: &Arc<CausalLog>,
    workers: usize,
    queue: usize,
    jobs: usize,
) {
    runtime().block_on(async {
        let pool =
            tasks::WorkerPool::with_tracing(workers, queue, capture.tracing())
                .unwrap();
        let (cx, clock) = open(capture, log, "submit");
        let (tx, rx) = tokio::sync::oneshot::channel::<VectorClock>();
        let (mut tx, mut rx) = (Some(tx), Some(rx));
        let mut handles = Vec::new();
        for j in 0..jobs {
            let (log, stamp) = (log.clone(), clock.stamp());
            let (tx, rx) = (
                if j == 0 { tx.take() } else { None },
                if j == 1 { rx.take() } else { None },
            );
            // Numbered in submission order, so that job 0 is always p1.
            let mut me = log.process();
            let job = async move {
                me.receive(&stamp);
                if let Some(rx) = rx {
                    me.receive(&rx.await.unwrap());
                }
                let what = ["send", "receive"].get(j).copied();
                me.event(&log, current_span(), what.unwrap_or("job"));
                if let Some(tx) = tx {
                    tx.send(me.stamp()).unwrap();
                }
                me.stamp()
            };
            handles.push(pool.submit(job).with_context(cx.clone()).await.unwrap());
        }
        let mut back = Vec::new();
        for h in handles {
            back.push(h.join().await.unwrap());
        }
        close(&cx, clock, log, back);
        pool.shutdown().await;
    });
}

/// What the checks can find wrong with a run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Violation {
    /// A span in which no event was recorded.
    Silent(String),
    /// A span without the parent its pattern must give it.
    MissingEdge {
        child: String,
        expected: &'static str,
        found: Option<String>,
    },
    /// A parent/child edge whose parent does not start before the child.
    NotBefore { parent: String, child: String },
    /// Structured concurrency fails: a child does not end before its parent.
    OutlivesParent { parent: String, child: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silent(span) => write!(f, "{span}: no event recorded in it"),
            Self::MissingEdge {
                child,
                expected,
                found,
            } => {
                let found = found.as_deref().unwrap_or("none, a root");
                write!(f, "{child}: parent {found}, expected {expected}")
            }
            Self::NotBefore { parent, child } => write!(
                f,
                "{parent} -> {child}: the parent does not start before the child"
            ),
            Self::OutlivesParent { parent, child } => write!(
                f,
                "{parent} -> {child}: the child does not end before the parent"
            ),
        }
    }
}

/// The violations, one line per kind, with how many times each occurred.
fn report(violations: &[Violation]) -> String {
    let mut counts = BTreeMap::new();
    for v in violations {
        *counts.entry(v.to_string()).or_insert(0) += 1;
    }
    let lines = counts.iter().map(|(v, n)| format!("  {n} x {v}\n"));
    lines.collect()
}

// ANCHOR: t3_expected
/// The parent each pattern must give its spans, by name; `None` for the
/// spans the test starts itself (the roots).
fn expected_parent(name: &str) -> Option<&'static str> {
    match name {
        "process stage0" => Some("item"),
        "process fan_out" => Some("caller"),
        "process pool" => Some("submit"),
        _ => STAGE_SPANS
            .iter()
            .position(|s| *s == name)
            .map(|i| STAGE_SPANS[i - 1]),
    }
}

/// The spans whose parent is not the one their pattern must give them.
fn missing_edges(tree: &SpanTree) -> Vec<Violation> {
    let mut bad = Vec::new();
    for node in tree.nodes() {
        let found = tree.parent(node.id).map(|p| tree.name(p).to_owned());
        if let Some(expected) = expected_parent(&node.name)
            && found.as_deref() != Some(expected)
        {
            let child = node.name.clone();
            bad.push(Violation::MissingEdge {
                child,
                expected,
                found,
            });
        }
    }
    bad
}
// ANCHOR_END: t3_expected

/// Parent/child edges checked, and happens-before pairs with no tree path.
#[derive(Debug)]
struct Outcome {
    edges: usize,
    unexplained: usize,
    /// Of those, pairs recorded by two different processes.
    across: usize,
}

// ANCHOR: t3_check
/// Soundness, and the edges the patterns must make.
fn check(spans: &[SpanData], log: &CausalLog) -> Result<Outcome, Vec<Violation>> {
    let (tree, bounds) = (SpanTree::new(spans), log.bounds());
    let (mut bad, mut edges) = (missing_edges(&tree), 0);
    for node in tree.nodes() {
        let Some(child) = bounds.get(&node.id) else {
            bad.push(Violation::Silent(node.name.clone()));
            continue;
        };
        let Some(p) = tree.parent(node.id) else {
            continue;
        };
        edges += 1;
        // Sound: the parent's first event happens before the child's.
        let start = bounds.get(&p).map(|b| &b.first.clock);
        if !start.is_some_and(|c| c.before(&child.first.clock)) {
            let (parent, child) = (tree.name(p).to_owned(), node.name.clone());
            bad.push(Violation::NotBefore { parent, child });
        }
    }
    let (unexplained, across) = incomplete(&tree, log);
    let outcome = Outcome {
        edges,
        unexplained,
        across,
    };
    if bad.is_empty() {
        Ok(outcome)
    } else {
        Err(bad)
    }
}
// ANCHOR_END: t3_check

// ANCHOR: t3_incomplete
/// Incomplete: pairs of events ordered by the clocks whose spans are on no
/// common root-to-leaf path; and how many of them two processes recorded.
fn incomplete(tree: &SpanTree, log: &CausalLog) -> (usize, usize) {
    let events = log.events();
    let (mut unexplained, mut across) = (0, 0);
    for e in &events {
        for f in &events {
            if e.clock.before(&f.clock) && !tree.on_one_path(e.span, f.span) {
                unexplained += 1;
                across += usize::from(e.process != f.process);
            }
        }
    }
    (unexplained, across)
}
// ANCHOR_END: t3_incomplete

// ANCHOR: t3_nested
/// Structured concurrency, checked rather than assumed: every child's last
/// event happens before its parent's last event.
fn nested(spans: &[SpanData], log: &CausalLog) -> Vec<Violation> {
    let (tree, bounds) = (SpanTree::new(spans), log.bounds());
    let mut bad = Vec::new();
    for node in tree.nodes() {
        let Some(p) = tree.parent(node.id) else {
            continue;
        };
        let (Some(child), Some(parent)) = (bounds.get(&node.id), bounds.get(&p))
        else {
            continue; // `check` reports spans without events
        };
        if !child.last.clock.before(&parent.last.clock) {
            let (parent, child) = (tree.name(p).to_owned(), node.name.clone());
            bad.push(Violation::OutlivesParent { parent, child });
        }
    }
    bad
}
// ANCHOR_END: t3_nested

#[test]
fn t3_span_trees_are_sound_but_incomplete_for_happens_before() {
    let totals = RefCell::new(BTreeMap::<&str, usize>::new());
    let add = |key: &'static str, n: usize| {
        *totals.borrow_mut().entry(key).or_insert(0) += n;
    };
    let spans = Cell::new(0);
    runner(CASES)
        .run(&scenario(), |s| {
            let (captured, log) = run(s, Mutant::None);
            let outcome = check(&captured, &log).map_err(|v| {
                TestCaseError::fail(format!("{s:?}:\n{}", report(&v)))
            })?;
            // ANCHOR: t3_requires
            // Two items through one pipeline stage, or two jobs that message
            // each other, always give happens-before across processes that
            // the tree does not show.
            let (pipeline, must_find) = match s.pattern {
                Pattern::Pipeline { .. } => (true, s.items >= 2),
                Pattern::Pool { .. } => (false, s.items >= 2),
                Pattern::FanOut { .. } => (false, false),
            };
            prop_assert!(!must_find || outcome.across > 0, "complete? {s:?}");
            // Fan-outs and pools nest their children; pipelines never do.
            let outliving = nested(&captured, &log);
            prop_assert_eq!(outliving.is_empty(), !pipeline, "{:?}", outliving);
            // ANCHOR_END: t3_requires
            add(
                match (s.pattern, s.tokio) {
                    (Pattern::Pipeline { .. }, false) => "pipeline_threads",
                    (Pattern::Pipeline { .. }, true) => "pipeline_tokio",
                    (Pattern::FanOut { .. }, false) => "fan_out_threads",
                    (Pattern::FanOut { .. }, true) => "fan_out_tokio",
                    (Pattern::Pool { .. }, false) => "pool_threads",
                    (Pattern::Pool { .. }, true) => "pool_tokio",
                },
                1,
            );
            add(if pipeline { "not_nested" } else { "nested" }, 1);
            add("outliving", outliving.len());
            add("edges", outcome.edges);
            add("unexplained", outcome.unexplained);
            add("across", outcome.across);
            spans.set(spans.get() + captured.len());
            Ok(())
        })
        .expect("sound, with the expected edges, and incomplete");
    let group = "ch16_t3";
    let count = |id: &str, v: usize, unit: &str| {
        Measurement::count(format!("{group}/{id}"), v as f64, unit)
    };
    let mut figures = vec![
        count("cases", CASES as usize, "random runs"),
        count("spans", spans.get(), "spans"),
    ];
    for (id, n) in totals.into_inner() {
        let unit = match id {
            "edges" => "parent/child edges",
            "unexplained" | "across" => "pairs of events",
            "outliving" => "children that outlive their parent",
            _ => "runs",
        };
        figures.push(count(id, n, unit));
    }
    record(group, figures).unwrap();
}

/// The smallest case, written out for the chapter: two jobs of a tokio
/// pool, each a process of its own.
#[test]
fn t3_a_message_between_siblings() {
    let capture = Capture::new(Mutant::None);
    let log = Arc::new(CausalLog::new());
    pool_tasks(&capture, &log, 2, 2, 2);
    let spans = capture.spans();
    let outcome = check(&spans, &log).expect("sound, with the expected edges");
    assert!(outcome.across > 0);
    let tree = SpanTree::new(&spans);
    let events = log.events();
    let send = events.iter().find(|e| e.what == "send").unwrap();
    let receive = events.iter().find(|e| e.what == "receive").unwrap();
    assert!(send.clock.before(&receive.clock), "the message orders them");
    assert_ne!(send.process, receive.process, "two processes");
    assert!(
        !tree.on_one_path(send.span, receive.span),
        "no tree path joins them"
    );
    let parent = tree
        .parent(send.span)
        .expect("the send's span has a parent");
    assert_eq!(tree.name(parent), "submit");
    assert_eq!(tree.parent(receive.span), Some(parent), "siblings");
    let text = format!(
        "{}send in the first job  VC {}\nreceive in the second  VC {}",
        tree.render(),
        send.clock,
        receive.clock
    );
    record(
        "ch16_t3_siblings",
        vec![
            Measurement::count(
                "ch16_t3_siblings/spans",
                spans.len() as f64,
                "spans",
            )
            .with_text(text),
        ],
    )
    .unwrap();
}

/// Records what a planted bug made the checks report, for the chapter.
fn record_report(group: &str, what: &str, violations: &[Violation]) {
    let text = format!("{what}:\n{}", report(violations));
    let id = format!("{group}/violations");
    let unit = "violations";
    let m = Measurement::count(id, violations.len() as f64, unit).with_text(text);
    record(group, vec![m]).unwrap();
}

const PIPELINE: Scenario = Scenario {
    pattern: Pattern::Pipeline {
        stages: 2,
        capacity: 1,
    },
    tokio: false,
    items: 2,
};

/// Planted bug (a): every pattern span a fresh root. The check reports each
/// missing edge, in all three patterns and both flavours.
#[test]
fn t3_check_rejects_broken_propagation() {
    let fan = Pattern::FanOut {
        workers: 2,
        completion: false,
    };
    let pool = Pattern::Pool {
        workers: 2,
        queue: 2,
    };
    let mut shown = Vec::new();
    for pattern in [PIPELINE.pattern, fan, pool] {
        for tokio in [false, true] {
            let s = Scenario {
                pattern,
                tokio,
                items: 2,
            };
            let (spans, log) = run(s, Mutant::Orphan);
            let Err(violations) = check(&spans, &log) else {
                panic!("every span a root, and the check passed: {s:?}");
            };
            assert!(
                violations.iter().all(|v| matches!(
                    v,
                    Violation::MissingEdge { found: None, .. }
                )),
                "{s:?}: {violations:?}"
            );
            // Two pattern spans per item in the pipeline, one otherwise.
            let per_item = if s.pattern == PIPELINE.pattern { 2 } else { 1 };
            assert_eq!(violations.len(), 2 * per_item, "{s:?}");
            if s == PIPELINE {
                shown = violations;
            }
        }
    }
    record_report(
        "ch16_t3_orphan",
        "every pattern span a fresh root (2 items, 2 stages)",
        &shown,
    );
}

/// Planted bug (b): contexts crossed between tasks. The tree then has edges
/// between fan-out items that run concurrently; only the clocks, which came
/// with the payloads and not with the contexts, can tell.
#[test]
fn t3_check_rejects_crossed_contexts() {
    let s = Scenario {
        pattern: Pattern::FanOut {
            workers: 3,
            completion: true,
        },
        tokio: true,
        items: 3,
    };
    let (spans, log) = run(s, Mutant::SharedSlot);
    let Err(violations) = check(&spans, &log) else {
        panic!("crossed contexts, and the check passed");
    };
    let not_before = Violation::NotBefore {
        parent: "process fan_out".into(),
        child: "process fan_out".into(),
    };
    // Each item after the first is parented to the one started before it.
    let n = violations.iter().filter(|v| **v == not_before).count();
    assert_eq!(n, 2, "{violations:?}");
    record_report(
        "ch16_t3_crossed",
        "one context slot shared by all tasks (3 items of a tokio fan-out)",
        &violations,
    );
}

/// Planted bug (c), which is no bug: the pipeline itself. Its spans do not
/// nest, and the hypothesis check says so; a pool's do.
#[test]
fn t3_pipelines_are_not_structured() {
    let (spans, log) = run(PIPELINE, Mutant::None);
    check(&spans, &log).expect("sound, with the expected edges");
    let outliving = nested(&spans, &log);
    // Every edge: item -> stage0 and stage0 -> stage1, for each item.
    assert_eq!(outliving.len(), 4, "{outliving:?}");
    assert!(
        outliving
            .iter()
            .all(|v| matches!(v, Violation::OutlivesParent { .. }))
    );
    let pool = Scenario {
        pattern: Pattern::Pool {
            workers: 2,
            queue: 2,
        },
        tokio: false,
        items: 3,
    };
    let (spans, log) = run(pool, Mutant::None);
    assert_eq!(nested(&spans, &log), [], "a pool's jobs end inside submit");
    record_report(
        "ch16_t3_nesting",
        "a pipeline (2 items, 2 stages) against structured concurrency",
        &outliving,
    );
}
