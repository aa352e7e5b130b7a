//! Chapter 9: shutting the pipeline down on a current-thread tokio runtime
//! with the OTLP/gRPC exporter. The SDK's `shutdown()` blocks the calling
//! thread; on the runtime's only thread it blocks the very I/O the export is
//! waiting for. `Telemetry::shutdown().await` blocks a pool thread instead.
//!
//! Run it with `cargo run --example ch09_shutdown`. A collector runs in the
//! same process (the book's `otlp-receiver`), on a runtime of its own.
//! The first half waits for the SDK's five-second shutdown timeout.

use otlp_receiver::Receiver;

// ANCHOR: main
use opentelemetry::global;
use opentelemetry::trace::Tracer;
use otlp_csp::telemetry::{Protocol, TelemetryConfig, init_with};
use tokio::runtime::{Builder, Runtime};

// ANCHOR: setup
const SPANS: usize = 3;

fn config(collector: &str) -> TelemetryConfig {
    TelemetryConfig {
        traces: TelemetryConfig::otlp("ch09-shutdown", Protocol::Grpc, collector)
            .traces,
        ..TelemetryConfig::silent("ch09-shutdown")
    }
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
    // Trap one: building the gRPC exporter outside any runtime (tonic panics;
    // the book's set-up checks first and returns an error).
    // Print the message below, not a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let outside =
        std::panic::catch_unwind(|| init_with(config(&endpoint)).map(drop));
    let _ = std::panic::take_hook();
    match outside {
        Ok(result) => println!("init_with outside a runtime: {result:?}"),
        Err(panic) => println!(
            "init_with outside a runtime panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        ),
    }
    // ANCHOR_END: trap_one

    // ANCHOR: trap_two
    // Trap two: the SDK's blocking shutdown on the runtime's only thread.
    let app = current_thread()?;
    let outcome = app.block_on(async {
        let telemetry = init_with(config(&endpoint))?;
        for _ in 0..SPANS {
            drop(global::tracer("ch09").start("work"));
        }
        // Blocks this thread until the batch thread's export finishes; the
        // export needs this thread to drive its connection. Nothing moves
        // until the SDK's timeout gives up.
        let outcome = telemetry.provider().shutdown();
        Ok::<_, Box<dyn std::error::Error>>(outcome)
    })?;
    println!("provider.shutdown() on a current-thread runtime: {outcome:?}");
    println!("spans the collector has: {}", collector.spans().len());
    drop(app); // stops the stuck export for good
    // ANCHOR_END: trap_two

    // ANCHOR: answer
    // The answer: the same program, shutting down with `.await`.
    let app = current_thread()?;
    let stats = app.block_on(async {
        let telemetry = init_with(config(&endpoint))?;
        for _ in 0..SPANS {
            drop(global::tracer("ch09").start("work"));
        }
        telemetry.shutdown().await
    })?;
    println!(
        "Telemetry::shutdown().await: {} ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    println!("spans the collector has: {}", collector.spans().len());
    Ok(())
}
// ANCHOR_END: answer
// ANCHOR_END: main
