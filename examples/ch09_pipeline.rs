//! Chapter 9: the SDK pipeline assembled by hand, provider -> sampler ->
//! processor -> exporter, with the simple and the batch processor side by
//! side. The exporter reports each batch it receives over a channel, so the
//! program can wait for an export instead of guessing how long it takes.
//!
//! Run it with `cargo run --example ch09_pipeline`.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
    SimpleSpanProcessor, SpanData, SpanExporter,
};

// ANCHOR: exporter
/// Sends the names of every batch it is given to the program, and records
/// which thread called it.
#[derive(Debug)]
struct Report(Mutex<Sender<(Vec<String>, String)>>);

impl SpanExporter for Report {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let names = batch.iter().map(|s| s.name.to_string()).collect();
        let thread = std::thread::current().name().unwrap_or("?").to_owned();
        let _ = self.0.lock().expect("sender").send((names, thread));
        Ok(())
    }
}

fn report() -> (Report, Receiver<(Vec<String>, String)>) {
    let (tx, rx) = channel();
    (Report(Mutex::new(tx)), rx)
}
// ANCHOR_END: exporter

fn show(what: &str, (names, thread): (Vec<String>, String)) {
    println!(
        "  {what}: exported [{}] on thread {thread}",
        names.join(", ")
    );
}

const WAIT: Duration = Duration::from_secs(10);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: simple
    let (exporter, exports) = report();
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_span_processor(SimpleSpanProcessor::new(exporter))
        .build();
    let tracer = provider.tracer("ch09");
    println!("simple processor:");
    for name in ["a", "b"] {
        drop(tracer.start(name));
        // The export already happened, inside `end`, on this thread.
        show(&format!("after {name} ended"), exports.try_recv()?);
    }
    provider.shutdown()?;
    // ANCHOR_END: simple

    // ANCHOR: batch
    // ANCHOR: batch_build
    let (exporter, exports) = report();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(16)
                .with_max_export_batch_size(3)
                .with_scheduled_delay(Duration::from_secs(3600))
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    // ANCHOR_END: batch_build
    // ANCHOR: batch_run
    let tracer = provider.tracer("ch09");
    println!("batch processor, batches of 3, a scheduled delay of an hour:");
    for name in ["c", "d"] {
        drop(tracer.start(name));
    }
    assert!(exports.try_recv().is_err(), "two spans are not a batch");
    println!("  after c, d ended: nothing exported yet");
    drop(tracer.start("e")); // the third span fills a batch: the worker is woken
    show("after e ended", exports.recv_timeout(WAIT)?);
    drop(tracer.start("f"));
    provider.force_flush()?; // exports what is queued, and waits for it
    show("after f ended and force_flush", exports.try_recv()?);
    drop(tracer.start("g"));
    provider.shutdown()?; // a final flush, then the worker thread stops
    show("after g ended and shutdown", exports.try_recv()?);
    // ANCHOR_END: batch_run
    // ANCHOR_END: batch

    // ANCHOR: delay
    let (exporter, exports) = report();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_millis(200))
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    println!("batch processor, default batch size, a scheduled delay of 200 ms:");
    let ended = Instant::now();
    drop(provider.tracer("ch09").start("h"));
    let export = exports.recv_timeout(WAIT)?;
    let waited = ended.elapsed();
    show("with no flush", export);
    // One span never fills a batch: only the timer can have sent it.
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    println!("  sent by the timer: one span is not a full batch");
    provider.shutdown()?;
    // ANCHOR_END: delay
    Ok(())
}
