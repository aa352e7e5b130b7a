//! Chapter 10, "Context propagation": a trace that crosses a real HTTP hop.
//! A reqwest client injects `traceparent`, `tracestate` and `baggage`; an axum
//! server extracts them, continues the trace, and hands the context to a tokio
//! task. Then three requests with broken `traceparent` headers show what the
//! server does with them: start a new trace, count it, never panic.
//!
//! Run it with `cargo run --example ch10_http`.

// ANCHOR: imports
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{Span, SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use otlp_csp::telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, context_with_span, global_counters,
};
// ANCHOR_END: imports

// ANCHOR: server
// ANCHOR: server_span
/// The server's handler: the caller's context comes in with the headers.
async fn work(headers: HeaderMap) -> String {
    let parent =
        global::get_text_map_propagator(|p| p.extract(&HeaderCarrier(&headers)));
    let continued = parent.span().span_context().is_valid();
    let tenant = match parent.baggage().get("tenant") {
        Some(value) => value.to_string(),
        None => "none".to_owned(),
    };

    let tracer = global::tracer("ch10-server");
    let mut span = tracer
        .span_builder("GET /work")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &parent);
    span.set_attribute(KeyValue::new("tenant", tenant.clone()));
    let cx = context_with_span(&parent, span);
    // ANCHOR_END: server_span

    // ANCHOR: server_task
    // Inside the process the context moves as in chapter 1: attached to the
    // future of a tokio task, or sent along a channel to a thread.
    tokio::spawn(
        async {
            let tracer = global::tracer("ch10-server");
            tracer.start_with_context("load", &Context::current()).end();
        }
        .with_context(cx.clone()),
    )
    .await
    .expect("the task does not panic");

    cx.span().end();
    format!("continued={continued} tenant={tenant}")
}
// ANCHOR_END: server_task
// ANCHOR_END: server

// ANCHOR: client
// ANCHOR: client_span
/// The client: a span of its own, baggage, and the headers that carry both.
async fn call(
    client: &reqwest::Client,
    url: &str,
) -> Result<String, reqwest::Error> {
    let tracer = global::tracer("ch10-client");
    let span = tracer
        .span_builder("call /work")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    let cx = context_with_span(&Context::current(), span)
        .with_baggage(vec![KeyValue::new("tenant", "acme corp")]);
    // ANCHOR_END: client_span

    // ANCHOR: client_inject
    let mut headers = HeaderMap::new();
    global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderCarrierMut(&mut headers))
    });
    for name in ["traceparent", "baggage"] {
        if let Some(value) = headers.get(name) {
            // The trace and span ids in the header are the client span's own.
            println!("client sends {name}: {}", value.to_str().unwrap_or("?"));
        }
    }
    let reply = client
        .get(url)
        .headers(headers)
        .send()
        .await?
        .text()
        .await?;
    cx.span().end();
    Ok(reply)
}
// ANCHOR_END: client_inject
// ANCHOR_END: client

// ANCHOR: main
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `init` installs the book's W3C propagators as the global propagator.
    let telemetry = otlp_csp::telemetry::init("ch10-http")?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/work", listener.local_addr()?);
    let app = Router::new().route("/work", get(work));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    println!("reply: {}", call(&client, &url).await?);
    // ANCHOR_END: main

    // ANCHOR: bad_headers
    // ANCHOR: bad_list
    // Requests a new user might meet in the wild. Each is a valid HTTP request
    // whose trace context the W3C rules reject.
    let tid = "4bf92f3577b34da6a3ce929d0e0e4736";
    let bad: [(&str, Vec<(&str, String)>); 3] = [
        (
            "flags of one digit",
            vec![("traceparent", format!("00-{tid}-00f067aa0ba902b7-1"))],
        ),
        (
            "version ff",
            vec![("traceparent", format!("ff-{tid}-00f067aa0ba902b7-01"))],
        ),
        (
            "two traceparent headers",
            vec![
                ("traceparent", format!("00-{tid}-00f067aa0ba902b7-01")),
                ("traceparent", format!("00-{tid}-b7ad6b7169203331-01")),
            ],
        ),
    ];
    // ANCHOR_END: bad_list
    // ANCHOR: bad_send
    for (what, fields) in bad {
        let mut request =
            client.get(&url).header("baggage", "tenant=acme,bad key=1");
        for (name, value) in fields {
            request = request.header(name, value);
        }
        let reply = request.send().await?.text().await?;
        println!("{what}: reply: {reply}");
    }
    let counts = global_counters().snapshot();
    println!(
        "rejected traceparent headers: {}, dropped baggage members: {}",
        counts.traceparent_rejected, counts.baggage_members_dropped
    );
    // ANCHOR_END: bad_send
    // ANCHOR_END: bad_headers

    server.abort();
    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
