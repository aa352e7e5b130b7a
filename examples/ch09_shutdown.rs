//! Chapter 9: opentelemetry-otlp's OTLP/gRPC exporter under the SDK's batch
//! processor, on tokio. Building the exporter needs a runtime; the SDK's
//! `shutdown()` blocks the calling thread, and on a current-thread runtime
//! that is the thread the export's I/O waits for. The book's set-up, whose
//! span exporter drives its own connection, has neither trap.
//!
//! Run it with `cargo run --example ch09_shutdown`. A collector runs in the
//! same process (the book's `otlp-receiver`), on a runtime of its own.
//! The second trap waits for the SDK's five-second shutdown timeout.

use otlp_receiver::Receiver;

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp::telemetry::{Protocol, TelemetryConfig, init_with};
use tokio::runtime::{Builder, Runtime};

// ANCHOR: setup
const SPANS: usize = 3;

/// The SDK's own pieces: the tonic exporter under the batch processor.
fn sdk_provider(collector: &str) -> SdkTracerProvider {
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector)
        .build()
        .expect("exporter");
    SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build()
}

fn current_thread() -> std::io::Result<Runtime> {
    Builder::new_current_thread().enable_all().build()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The collector's runtime has worker threads of its own, so nothing the
    // application's runtime does can stall it.
    let collector_rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let collector = collector_rt.block_on(Receiver::start())?;
    let endpoint = collector.grpc_endpoint();
    // ANCHOR_END: setup

    // ANCHOR: trap_one
    // Trap one: building the gRPC exporter outside any runtime. tonic
    // panics; print its message, not a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let outside = std::panic::catch_unwind(|| drop(sdk_provider(&endpoint)));
    let _ = std::panic::take_hook();
    match outside.map_err(|p| p.downcast::<String>()) {
        Ok(()) => println!("SDK exporter outside a runtime: built"),
        Err(Ok(message)) => {
            println!("SDK exporter outside a runtime: panicked: {message}")
        }
        Err(Err(_)) => println!("SDK exporter outside a runtime: panicked"),
    }
    // ANCHOR_END: trap_one

    // ANCHOR: trap_two
    // Trap two: the SDK's blocking shutdown on the runtime's only thread.
    let app = current_thread()?;
    let outcome = app.block_on(async {
        let provider = sdk_provider(&endpoint);
        for _ in 0..SPANS {
            drop(provider.tracer("ch09").start("work"));
        }
        // Blocks this thread until the batch thread's export finishes; the
        // export needs this thread to drive its connection. Nothing moves
        // until the SDK's timeout gives up.
        provider.shutdown()
    });
    println!("SDK provider.shutdown() on a current-thread runtime: {outcome:?}");
    println!("spans the collector has: {}", collector.spans().len());
    drop(app); // stops the stuck export for good
    // ANCHOR_END: trap_two

    // ANCHOR: answer
    // The book's set-up, the same two ways: built outside any runtime, and
    // shut down with the blocking call on a current-thread runtime.
    let config = TelemetryConfig {
        traces: TelemetryConfig::otlp("ch09", Protocol::Grpc, &endpoint).traces,
        ..TelemetryConfig::silent("ch09")
    };
    let telemetry = init_with(config)?;
    let outcome = current_thread()?.block_on(async {
        for _ in 0..SPANS {
            drop(telemetry.provider().tracer("ch09").start("work"));
        }
        telemetry.provider().shutdown()
    });
    println!("book set-up, provider.shutdown() on that runtime: {outcome:?}");
    println!("spans the collector has: {}", collector.spans().len());
    Ok(())
}
// ANCHOR_END: answer
// ANCHOR_END: main
