//! Chapter 4, "Channels compared": a `select!` branch dropped half-way loses
//! the item it was holding, and its span ends with status Unset, the status
//! of a span that went well. Polling one future to its end loses nothing; a
//! guard that marks the span when it is dropped makes the trace say so.
//!
//! Run it with `cargo run --example ch04_cancel_safety`. The tests (run by
//! `cargo test --workspace`) check the loss, the statuses and the fix.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Status, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanData,
};
use otlp_csp::telemetry::{TelemetryError, format_span};
use tokio::sync::mpsc;

/// Items queued for the worker, and control messages that arrive meanwhile.
const ITEMS: u64 = 10;
const CONTROL: u64 = 3;

// ANCHOR: forward
/// Takes one item off the queue and writes it downstream. Between the two
/// awaits the item exists only inside this future: dropping the future
/// there drops the item.
async fn forward(
    items: &mut mpsc::Receiver<u64>,
    out: &mut Vec<u64>,
    tracer: &SdkTracer,
    mark: bool,
) -> bool {
    let Some(item) = items.recv().await else {
        return false; // queue closed and empty
    };
    let mut span = MarkOnDrop {
        span: tracer.start("forward"),
        armed: mark,
    };
    span.span.set_attribute(KeyValue::new("item", item as i64));
    tokio::time::sleep(Duration::from_millis(1)).await; // the write
    out.push(item);
    span.armed = false; // delivered: nothing to mark
    true
}
// ANCHOR_END: forward

// ANCHOR: mark
/// A span that, dropped before `armed` is cleared, ends with an error status.
struct MarkOnDrop<S: Span> {
    span: S,
    armed: bool,
}

impl<S: Span> Drop for MarkOnDrop<S> {
    fn drop(&mut self) {
        if self.armed {
            self.span
                .set_status(Status::error("cancelled before delivery"));
        }
    } // then `span` is dropped, which ends it
}
// ANCHOR_END: mark

/// The worker's two inputs. The control sender stays open for the whole
/// run, so an empty control queue waits rather than reporting "closed".
struct Queues {
    items: mpsc::Receiver<u64>,
    control: mpsc::Receiver<&'static str>,
    _control_tx: mpsc::Sender<&'static str>,
}

/// `ITEMS` items and `CONTROL` status requests, all queued before the worker
/// starts, so that every run takes the same turns.
fn queues() -> Queues {
    let (items_tx, items) = mpsc::channel(ITEMS as usize);
    let (control_tx, control) = mpsc::channel(CONTROL as usize);
    for item in 0..ITEMS {
        items_tx.try_send(item).expect("room for every item");
    }
    for _ in 0..CONTROL {
        control_tx
            .try_send("status?")
            .expect("room for every request");
    }
    Queues {
        items,
        control,
        _control_tx: control_tx,
    }
}

// ANCHOR: recreated
/// The bug: a new `forward` future every turn. When a control message wins
/// the race, the `forward` in progress is dropped, with its item.
async fn recreated(q: &mut Queues, tracer: &SdkTracer, mark: bool) -> Vec<u64> {
    let mut out = Vec::new();
    loop {
        tokio::select! {
            biased; // try `forward` first, so that every run is the same
            more = forward(&mut q.items, &mut out, tracer, mark) => {
                if !more {
                    break;
                }
            }
            Some(_request) = q.control.recv() => { /* answer it */ }
        }
    }
    out
}
// ANCHOR_END: recreated

// ANCHOR: pinned
/// The fix: one `forward` future per item, created outside the inner loop
/// and polled through `&mut`. A control message interrupts the wait, not
/// the future, which carries on at the next turn.
async fn pinned(q: &mut Queues, tracer: &SdkTracer, mark: bool) -> Vec<u64> {
    let mut out = Vec::new();
    loop {
        let step = forward(&mut q.items, &mut out, tracer, mark);
        tokio::pin!(step);
        let more = loop {
            tokio::select! {
                biased;
                more = &mut step => break more,
                Some(_request) = q.control.recv() => { /* answer it */ }
            }
        };
        if !more {
            break;
        }
    }
    out
}
// ANCHOR_END: pinned

/// What one run delivered and what its spans say.
#[derive(Debug)]
struct Report {
    lost: Vec<u64>,
    spans: Vec<SpanData>,
}

impl Report {
    fn errors(&self) -> usize {
        let error = |s: &&SpanData| matches!(s.status, Status::Error { .. });
        self.spans.iter().filter(error).count()
    }

    fn unset(&self) -> usize {
        self.spans
            .iter()
            .filter(|s| s.status == Status::Unset)
            .count()
    }

    /// The span of a lost item, if any.
    fn lost_span(&self) -> Option<&SpanData> {
        let &first = self.lost.first()?;
        let item = |s: &&SpanData| {
            let attr = s.attributes.iter().find(|kv| kv.key.as_str() == "item");
            attr.is_some_and(|kv| kv.value == (first as i64).into())
        };
        self.spans.iter().find(item)
    }
}

/// A provider that keeps its spans in memory, and also sends them over OTLP
/// when `OTEL_EXPORTER_OTLP_ENDPOINT` asks for it.
fn capture() -> Result<(SdkTracerProvider, InMemorySpanExporter), TelemetryError> {
    let exporter = InMemorySpanExporter::default();
    let builder =
        SdkTracerProvider::builder().with_simple_exporter(exporter.clone());
    let (builder, _) =
        otlp_csp::telemetry::with_otlp_from_env(builder, "ch04-cancel-safety")?;
    Ok((builder.build(), exporter))
}

/// Runs one worker (`pinned` or not, marking spans or not) over fresh queues.
async fn run(
    exporter: &InMemorySpanExporter,
    tracer: &SdkTracer,
    pin: bool,
    mark: bool,
) -> Report {
    exporter.reset();
    let mut q = queues();
    let out = if pin {
        pinned(&mut q, tracer, mark).await
    } else {
        recreated(&mut q, tracer, mark).await
    };
    let lost = (0..ITEMS).filter(|i| !out.contains(i)).collect();
    let spans = exporter.get_finished_spans().unwrap_or_default();
    Report { lost, spans }
}

fn print(name: &str, r: &Report) {
    let delivered = ITEMS as usize - r.lost.len();
    println!(
        "{name}: delivered {delivered} of {ITEMS}, lost {:?}",
        r.lost
    );
    let (n, unset, errors) = (r.spans.len(), r.unset(), r.errors());
    println!("{name}: {n} spans, {unset} with status Unset, {errors} with Error");
    if let Some(span) = r.lost_span() {
        let status = match span.status {
            Status::Unset => "Unset",
            Status::Ok => "Ok",
            Status::Error { .. } => "Error",
        };
        println!("{name}: {} (status {status})", format_span(span));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (provider, exporter) = capture()?;
    let tracer = provider.tracer("ch04");
    print("re-created", &run(&exporter, &tracer, false, false).await);
    print("pinned", &run(&exporter, &tracer, true, false).await);
    print("marked", &run(&exporter, &tracer, false, true).await);
    provider.shutdown()?;
    Ok(())
}

/// The check the fix must pass: every item delivered.
#[cfg(test)]
fn nothing_lost(r: &Report) -> Result<(), String> {
    match r.lost.as_slice() {
        [] => Ok(()),
        lost => Err(format!("lost items {lost:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn report(pin: bool, mark: bool) -> Report {
        let (provider, exporter) = capture().expect("provider");
        let report = run(&exporter, &provider.tracer("test"), pin, mark).await;
        provider.shutdown().expect("shutdown");
        report
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_recreated_future_loses_items_and_its_spans_look_fine() {
        let r = report(false, false).await;
        // The planted bug: the check rejects it.
        assert_eq!(nothing_lost(&r), Err("lost items [0, 1, 2]".to_owned()));
        // One span per item taken, lost or not, and not one says Error.
        assert_eq!((r.spans.len(), r.unset(), r.errors()), (10, 10, 0));
        assert_eq!(r.lost_span().map(|s| &s.status), Some(&Status::Unset));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_pinned_future_loses_nothing() {
        let r = report(true, false).await;
        assert_eq!(nothing_lost(&r), Ok(()));
        assert_eq!((r.spans.len(), r.errors()), (10, 0));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_marked_span_reports_the_cancellation() {
        let r = report(false, true).await;
        assert_eq!(r.lost, [0, 1, 2]);
        assert_eq!((r.unset(), r.errors()), (7, 3));
        let lost = r.lost_span().expect("the lost item's span");
        assert_eq!(lost.status, Status::error("cancelled before delivery"));
    }
}
