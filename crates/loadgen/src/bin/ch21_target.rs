//! The benchmark target of chapter 21: one HTTP hop with one server span,
//! set up the book's way, in a process whose allocations are counted.
//!
//! Environment:
//! - `LISTEN_ADDR` (default `127.0.0.1:0`); the bound address is printed as
//!   the first line, `listening on ADDR`.
//! - `TARGET_SAMPLE_RATIO` unset: untraced (no SDK installed, the API's
//!   no-op tracer). Set to a ratio in [0, 1]: traced, spans exported over
//!   OTLP/gRPC to `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://127.0.0.1:4317`),
//!   batched as `OTEL_BSP_MAX_QUEUE_SIZE` and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`
//!   say (the specification's 2048 and 512 when unset).
//!
//! `GET /hello` answers `hello`; `GET /stats` answers the allocation and span
//! counters as JSON. When stdin closes the server stops, flushes its spans and
//! prints `final ended=N exported=N failed=N dropped=N`.
//!
//! `ch21_target_dhat.rs` includes this file as a module and runs [`serve`]
//! with a hook for the lines it reads on stdin (profile start and stop).

use std::io::BufRead as _;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{KeyValue, global};
use otlp_csp_loadgen::alloc::{self, Counting};
use otlp_csp_telemetry::{
    BatchSettings, Export, Protocol, SamplerChoice, SpanCounters, Telemetry,
    TelemetryConfig,
};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ANCHOR: handler
/// The one hop: continue the caller's trace if it sent one, record one
/// server span, answer. The tracer is made once, at start.
async fn hello(
    State(tracer): State<Arc<BoxedTracer>>,
    headers: HeaderMap,
) -> &'static str {
    let parent = global::get_text_map_propagator(|p| {
        p.extract(&opentelemetry_http::HeaderExtractor(&headers))
    });
    let span = tracer
        .span_builder("GET /hello")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/hello"),
            KeyValue::new("http.response.status_code", 200),
        ])
        .start_with_context(tracer.as_ref(), &parent);
    drop(span); // ends it
    "hello\n"
}
// ANCHOR_END: handler

fn stats_json(counters: Option<&SpanCounters>) -> String {
    let s = counters.map(SpanCounters::snapshot).unwrap_or_default();
    format!(
        "{{\"alloc_bytes\":{},\"alloc_large_bytes\":{},\"allocs\":{},\"ended\":{},\"exported\":{},\"failed\":{},\"dropped\":{}}}",
        alloc::allocated(),
        alloc::allocated_large(),
        alloc::allocations(),
        s.ended,
        s.exported,
        s.failed,
        s.dropped
    )
}

fn telemetry() -> Result<Option<Telemetry>> {
    let Ok(ratio) = std::env::var("TARGET_SAMPLE_RATIO") else {
        return Ok(None);
    };
    let ratio: f64 = ratio
        .parse()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .with_context(|| {
            format!("TARGET_SAMPLE_RATIO={ratio:?}: expected a number in [0, 1]")
        })?;
    let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") else {
        bail!("TARGET_SAMPLE_RATIO is set but OTEL_EXPORTER_OTLP_ENDPOINT is not");
    };
    let mut config = TelemetryConfig::otlp("ch21-target", Protocol::Grpc, &endpoint);
    // Traces only: the comparison is about tracing's cost.
    config.metrics = Export::None;
    config.logs = Export::None;
    config.sampler = SamplerChoice::TraceIdRatio(ratio);
    // The queue and batch sizes from `OTEL_BSP_*`, as a deployed service
    // would take them; the runner sizes them for the saturated target.
    config.batch = BatchSettings::from_env()?;
    Ok(Some(otlp_csp_telemetry::init_with(config)?))
}

#[allow(dead_code, reason = "ch21_target_dhat.rs has a main of its own")]
#[tokio::main]
async fn main() -> Result<()> {
    serve(profile_lines()).await
}

// The services' self-profile, the same file: one way for a process to
// sample its own stacks.
#[cfg(feature = "profile")]
#[allow(dead_code, reason = "ch21_target_dhat.rs does not profile")]
#[path = "../../../services/src/profiling.rs"]
mod profiling;

/// With the feature `profile` and `OTLP_CSP_PROFILE=FILE`, the lines
/// `profile start` and `profile stop` on stdin bracket a CPU profile that
/// is written to FILE (folded stacks): the runner brackets the saturation
/// phase with them.
#[cfg(feature = "profile")]
#[allow(dead_code, reason = "ch21_target_dhat.rs has a main of its own")]
fn profile_lines() -> impl FnMut(&str) + Send + 'static {
    let mut running = None;
    move |line| match line {
        "profile start" => match profiling::Profile::from_env("ch21-target") {
            Ok(profile) => running = profile,
            Err(e) => eprintln!("ch21-target: profile not started: {e}"),
        },
        "profile stop" => {
            if let Some(profile) = running.take()
                && let Err(e) = profile.write()
            {
                eprintln!("ch21-target: profile not written: {e}");
            }
        }
        _ => {}
    }
}

#[cfg(not(feature = "profile"))]
#[allow(dead_code, reason = "ch21_target_dhat.rs has a main of its own")]
fn profile_lines() -> impl FnMut(&str) + Send + 'static {
    |_line| {}
}

/// The server, until stdin closes; `on_line` gets each line read on stdin
/// (without its newline) on the thread that reads them.
pub async fn serve(mut on_line: impl FnMut(&str) + Send + 'static) -> Result<()> {
    let telemetry = telemetry()?;
    let counters = telemetry.as_ref().map(Telemetry::span_counters);
    let tracer = Arc::new(global::tracer("ch21-target"));
    let app = Router::new()
        .route("/hello", get(hello))
        .route(
            "/stats",
            get(move || {
                let counters = counters.clone();
                async move { stats_json(counters.as_ref()) }
            }),
        )
        .with_state(tracer);
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("listening on {}", listener.local_addr()?);

    // Stop when stdin closes: the runner owns the pipe, and a runner that
    // dies takes the server with it.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        // One buffer for every line, so that reading a line allocates
        // nothing once it has room (the profiled window ends with one).
        let mut line = String::with_capacity(64);
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
            on_line(line.trim_end());
            line.clear();
        }
        let _ = stop_tx.send(());
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stop_rx.await;
        })
        .await?;

    if let Some(t) = telemetry {
        let counters = t.span_counters();
        // A shutdown that lost spans is an error naming them; the counts
        // below say the same in numbers, which is what the runner checks.
        if let Err(e) = t.shutdown().await {
            eprintln!("{e}");
        }
        let s = counters.snapshot();
        println!(
            "final ended={} exported={} failed={} dropped={}",
            s.ended, s.exported, s.failed, s.dropped
        );
    } else {
        println!("final ended=0 exported=0 failed=0 dropped=0");
    }
    Ok(())
}
