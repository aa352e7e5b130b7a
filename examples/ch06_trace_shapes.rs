//! Chapter 6, "Tracing across processes": runs each pattern of
//! `otlp_csp::patterns` on a few items, captures the spans in memory, and
//! prints every trace as an indented tree. It also checks the shape the
//! chapter claims for each pattern and exits with an error if it differs.
//!
//! Run it with `cargo run --example ch06_trace_shapes`.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ANCHOR: imports
use opentelemetry::trace::{Span, SpanId, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use otlp_csp::patterns::messaging::Destination;
use otlp_csp::patterns::threads::{Batcher, FanOut, Pipeline, WorkerPool};
use otlp_csp::patterns::{Traced, Tracing};
// ANCHOR_END: imports
use opentelemetry_semantic_conventions::attribute::{
    MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM,
};

type Res<T = ()> = Result<T, Box<dyn Error>>;

// ANCHOR: capture
/// An exporter that keeps every span it is given, so the program can print them.
#[derive(Clone, Debug, Default)]
struct Capture(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Capture {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().expect("capture lock").extend(batch);
        Ok(())
    }
}

impl Capture {
    /// Every span captured so far, leaving the store empty.
    fn take(&self) -> Vec<SpanData> {
        std::mem::take(&mut *self.0.lock().expect("capture lock"))
    }
}
// ANCHOR_END: capture

// ANCHOR: main
fn main() -> Res {
    // A provider of our own, exporting each span as it ends into `capture`.
    let capture = Capture::default();
    let builder = SdkTracerProvider::builder().with_simple_exporter(capture.clone());
    // ANCHOR: otlp
    // With OTEL_EXPORTER_OTLP_ENDPOINT set, every span also goes to a collector.
    let (builder, _) =
        otlp_csp::telemetry::with_otlp_from_env(builder, "ch06-trace-shapes")?;
    // ANCHOR_END: otlp
    let provider = builder.build();
    let tracer = provider.tracer("ch06");
    let tracing = Tracing::with_tracer(provider.tracer("ch06-patterns"));

    pipeline(&tracer, &tracing)?;
    show("pipeline", capture.take(), check_pipeline)?;
    fan_out(&tracer, &tracing)?;
    show("fan-out/fan-in", capture.take(), check_fan_out)?;
    pool(&tracer, &tracing)?;
    show("worker pool", capture.take(), check_pool)?;
    batch(&tracer, &tracing)?;
    show("batch", capture.take(), check_batch)?;
    Ok(())
}
// ANCHOR_END: main

/// The span of sending one item into `to` (PRODUCER, `send {to}`), ended at
/// once: its context goes with the item.
fn produce(tracer: &SdkTracer, to: Destination, item: i64) -> Context {
    let mut span = to.send().start(tracer);
    span.set_attribute(KeyValue::new("item", item));
    let cx = Context::current_with_span(span);
    cx.span().end();
    cx
}

// ANCHOR: pipeline
fn pipeline(tracer: &SdkTracer, tracing: &Tracing) -> Res {
    let (input, output) = Pipeline::new(2)?
        .tracing(tracing.clone())
        .stage("parse", |x: i64| x + 1)
        .stage("enrich", |x| x * 10)
        .stage("store", |x| x)
        .start()?;
    let parse = Destination::threads("parse"); // the channel in front of `parse`
    for item in 0..2 {
        // Each item carries the context of the span that sent it.
        input.send_traced(Traced::new(produce(tracer, parse, item), item))?;
    }
    drop(input);
    let results: Vec<i64> = std::iter::from_fn(|| output.recv()).collect();
    output.join()?;
    assert_eq!(results, [10, 20]);
    Ok(())
}
// ANCHOR_END: pipeline

// ANCHOR: fan_out
fn fan_out(tracer: &SdkTracer, tracing: &Tracing) -> Res {
    let request = Context::current_with_span(tracer.start("handle_request"));
    let squares = {
        // `map` takes its parent from the calling thread's current context.
        let _guard = request.clone().attach();
        FanOut::new(2)?
            .tracing(tracing.clone())
            .map(0..3u64, |x| x * x)?
    };
    request.span().end();
    assert_eq!(squares, [0, 1, 4]);
    Ok(())
}
// ANCHOR_END: fan_out

// ANCHOR: pool
fn pool(tracer: &SdkTracer, tracing: &Tracing) -> Res {
    let pool = WorkerPool::with_tracing(2, 4, tracing.clone())?;
    let submitter = Context::current_with_span(tracer.start("submit_jobs"));
    let jobs = {
        // `submit` captures the current context into the queued job.
        let _guard = submitter.clone().attach();
        (0..3i64)
            .map(|job| {
                pool.submit(move || {
                    // Inside a job, the current span is the job's span.
                    Context::current()
                        .span()
                        .set_attribute(KeyValue::new("job", job));
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    for job in jobs {
        job.join()?;
    }
    pool.shutdown();
    submitter.span().end();
    Ok(())
}
// ANCHOR_END: pool

// ANCHOR: batch
fn batch(tracer: &SdkTracer, tracing: &Tracing) -> Res {
    let (tx, rx) = crossbeam_channel::bounded(8);
    let orders = Destination::threads("orders");
    for item in 0..5 {
        tx.send(Traced::new(produce(tracer, orders, item), item))?;
    }
    drop(tx);
    // At most 3 items a batch: the 5 queued items make batches of 3 and 2.
    let mut sizes = Vec::new();
    Batcher::new(3, Duration::from_millis(100))?
        .destination(orders.name())
        .tracing(tracing.clone())
        .run(&rx, |items| sizes.push(items.len()));
    assert_eq!(sizes, [3, 2]);
    Ok(())
}
// ANCHOR_END: batch

// ---- printing and checking -------------------------------------------------

/// The spans of one capture, indexed for walking trees.
struct Spans {
    all: Vec<SpanData>,
    by_id: HashMap<SpanId, usize>,
}

impl Spans {
    fn new(all: Vec<SpanData>) -> Self {
        let by_id = all
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_context.span_id(), i))
            .collect();
        Self { all, by_id }
    }

    fn get(&self, id: SpanId) -> Option<&SpanData> {
        self.by_id.get(&id).map(|&i| &self.all[i])
    }

    /// Spans with no parent among the captured ones, in a stable order.
    fn roots(&self) -> Vec<&SpanData> {
        let mut roots: Vec<_> = self
            .all
            .iter()
            .filter(|s| self.get(s.parent_span_id).is_none())
            .collect();
        roots.sort_by_key(|s| self.order(s));
        roots
    }

    fn children(&self, parent: &SpanData) -> Vec<&SpanData> {
        let id = parent.span_context.span_id();
        let mut kids: Vec<_> =
            self.all.iter().filter(|s| s.parent_span_id == id).collect();
        kids.sort_by_key(|s| self.order(s));
        kids
    }

    /// Sort key: plain spans before linking ones, then by the item, job or
    /// index number (for a linking span, the first item it links to).
    fn order(&self, s: &SpanData) -> (bool, i64) {
        let number = ["item", "item.index", "job"]
            .iter()
            .find_map(|k| int_attr(s, k))
            .or_else(|| {
                s.links
                    .iter()
                    .filter_map(|l| self.get(l.span_context.span_id()))
                    .find_map(|linked| int_attr(linked, "item"))
            });
        (!s.links.is_empty(), number.unwrap_or(0))
    }

    fn print(&self, s: &SpanData, depth: usize) {
        let mut line = format!(
            "{}{} span={}",
            "  ".repeat(depth),
            s.name,
            s.span_context.span_id()
        );
        // The messaging attributes are the same on every span of a kind:
        // the next section shows them; here only the others are printed.
        let mut attrs: Vec<_> = (s.attributes.iter())
            .filter(|kv| !MESSAGING.contains(&kv.key.as_str()))
            .collect();
        attrs.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
        for kv in attrs {
            line.push_str(&format!(" {}={}", kv.key, kv.value));
        }
        if !s.links.is_empty() {
            let ids: Vec<String> = s
                .links
                .iter()
                .map(|l| l.span_context.span_id().to_string())
                .collect();
            line.push_str(&format!(" links=[{}]", ids.join(" ")));
        }
        println!("{line}");
        for child in self.children(s) {
            self.print(child, depth + 1);
        }
    }
}

const MESSAGING: [&str; 4] = [
    MESSAGING_SYSTEM,
    MESSAGING_DESTINATION_NAME,
    MESSAGING_OPERATION_TYPE,
    MESSAGING_OPERATION_NAME,
];

fn int_attr(s: &SpanData, key: &str) -> Option<i64> {
    s.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .and_then(|kv| match kv.value {
            opentelemetry::Value::I64(v) => Some(v),
            _ => None,
        })
}

fn ensure(ok: bool, claim: &str) -> Res {
    if ok {
        Ok(())
    } else {
        Err(format!("claim does not hold: {claim}").into())
    }
}

fn names<'a>(spans: impl IntoIterator<Item = &'a SpanData>) -> Vec<&'a str> {
    spans.into_iter().map(|s| &*s.name).collect()
}

/// Prints each trace as a tree, then checks the pattern's claimed shape.
fn show(title: &str, spans: Vec<SpanData>, check: fn(&Spans) -> Res) -> Res {
    let spans = Spans::new(spans);
    let roots = spans.roots();
    println!("== {title}: {} spans", spans.all.len());
    for root in &roots {
        println!("trace {}", root.span_context.trace_id());
        spans.print(root, 1);
    }
    check(&spans)
}

// ANCHOR: checks
// ANCHOR: check_pipeline
/// Pipeline: per item, one trace that is a chain: the send span, then one
/// process span per stage.
fn check_pipeline(spans: &Spans) -> Res {
    let roots = spans.roots();
    ensure(roots.len() == 2, "one trace per item")?;
    for root in roots {
        let mut chain = vec![root];
        while let [only] = spans.children(chain[chain.len() - 1])[..] {
            ensure(
                only.span_context.trace_id() == root.span_context.trace_id(),
                "one trace id per item",
            )?;
            chain.push(only);
        }
        ensure(
            names(chain.iter().copied())
                == [
                    "send parse",
                    "process parse",
                    "process enrich",
                    "process store",
                ],
            "each stage's span is the only child of the previous stage's span",
        )?;
    }
    Ok(())
}
// ANCHOR_END: check_pipeline

/// Fan-out: one trace; every item's span is a child of the caller's span.
fn check_fan_out(spans: &Spans) -> Res {
    let roots = spans.roots();
    ensure(
        names(roots.iter().copied()) == ["handle_request"],
        "a single trace",
    )?;
    let items = spans.children(roots[0]);
    ensure(
        names(items.iter().copied()) == ["process fan_out"; 3],
        "three item spans under the caller",
    )?;
    let indices: Vec<_> = items.iter().map(|s| int_attr(s, "item.index")).collect();
    ensure(
        indices == [Some(0), Some(1), Some(2)],
        "one span per item index",
    )?;
    ensure(
        items.iter().all(|s| spans.children(s).is_empty()),
        "item spans are leaves",
    )
}

/// Worker pool: one trace; every job's span is a child of the submitter's span.
fn check_pool(spans: &Spans) -> Res {
    let roots = spans.roots();
    ensure(
        names(roots.iter().copied()) == ["submit_jobs"],
        "a single trace",
    )?;
    let jobs = spans.children(roots[0]);
    ensure(
        names(jobs.iter().copied()) == ["process pool"; 3],
        "three job spans under the submitter",
    )?;
    ensure(
        jobs.iter().all(|s| spans.children(s).is_empty()),
        "job spans are leaves",
    )
}

// ANCHOR: batch_shape
/// Batch: each batch span starts its own trace, with one link per item and
/// no parent; together the links name every producer's span exactly once.
fn check_batch(spans: &Spans) -> Res {
    let batches: Vec<_> = (spans.all.iter())
        .filter(|s| s.name == "process orders")
        .collect();
    let produced: HashSet<_> = (spans.all.iter())
        .filter(|s| s.name == "send orders")
        .map(|s| s.span_context.span_id())
        .collect();
    ensure(
        batches.len() == 2 && produced.len() == 5,
        "two batches of five items",
    )?;
    // ANCHOR_END: batch_shape
    // ANCHOR: batch_links
    let mut linked = Vec::new();
    for b in batches {
        ensure(
            b.parent_span_id == SpanId::INVALID,
            "a batch span has no parent",
        )?;
        ensure(
            int_attr(b, MESSAGING_BATCH_MESSAGE_COUNT) == Some(b.links.len() as i64),
            "one link per item",
        )?;
        ensure(b.links.dropped_count == 0, "no link dropped")?;
        for link in b.links.iter() {
            let item = spans
                .get(link.span_context.span_id())
                .ok_or("link to an unknown span")?;
            ensure(
                item.span_context.trace_id() != b.span_context.trace_id(),
                "a batch is a trace of its own, not part of an item's trace",
            )?;
            linked.push(link.span_context.span_id());
        }
    }
    let distinct: HashSet<_> = linked.iter().copied().collect();
    ensure(
        linked.len() == 5 && distinct == produced,
        "every item linked exactly once",
    )
}
// ANCHOR_END: batch_links
// ANCHOR_END: checks
