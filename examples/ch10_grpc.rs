//! Chapter 10: one trace across a real gRPC call. The client's interceptor
//! injects the context into the call's metadata; on the server, a layer
//! around the service extracts it and runs the handler inside a server
//! span. The service is gRPC's standard health check (`tonic-health`), on
//! a loopback port.
//!
//! Run it with `cargo run --example ch10_grpc`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::context::FutureExt;
use opentelemetry::propagation::Injector;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_semantic_conventions::attribute::{RPC_METHOD, RPC_SYSTEM_NAME};
use otlp_csp::telemetry::propagation::{HeaderCarrier, context_with_span};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::server::NamedService;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

// ANCHOR: client
// ANCHOR: carrier
/// gRPC metadata as an OpenTelemetry `Injector`.
struct MetadataCarrier<'a>(&'a mut MetadataMap);

impl Injector for MetadataCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The W3C propagators write lowercase keys and visible ASCII values,
        // which always make valid metadata; anything else is not sent.
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}
// ANCHOR_END: carrier

// ANCHOR: interceptor
/// The client's interceptor: runs for every call, with the caller's context current.
fn inject(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    let mut carrier = MetadataCarrier(request.metadata_mut());
    global::get_text_map_propagator(|p| p.inject(&mut carrier));
    Ok(request)
}
// ANCHOR_END: interceptor
// ANCHOR_END: client

// ANCHOR: server
// ANCHOR: server_type
/// A layer around a gRPC service: each call runs inside a server span whose
/// parent is the context in the call's metadata (HTTP/2 headers).
#[derive(Clone)]
struct ServerSpans<S>(S);

impl<S, B> tower::Service<http::Request<B>> for ServerSpans<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;
    // ANCHOR_END: server_type

    fn poll_ready(
        &mut self,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    // ANCHOR: server_call
    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = global::get_text_map_propagator(|p| {
            p.extract(&HeaderCarrier(request.headers()))
        });
        let method = request.uri().path().trim_start_matches('/').to_owned();
        let tracer = global::tracer("ch10");
        let span = tracer
            .span_builder(method.clone())
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new(RPC_SYSTEM_NAME, "grpc"),
                KeyValue::new(RPC_METHOD, method),
            ])
            .start_with_context(&tracer, &parent);
        let cx = context_with_span(&parent, span);
        Box::pin(self.0.call(request).with_context(cx))
    }
}
// ANCHOR_END: server_call

impl<S: NamedService> NamedService for ServerSpans<S> {
    const NAME: &'static str = S::NAME;
}
// ANCHOR_END: server

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = otlp_csp::telemetry::init("ch10-grpc")?;

    // ANCHOR: wire
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse()?)?;
    let addr = incoming.local_addr()?;
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ServerSpans(health))
            .serve_with_incoming(incoming),
    );

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = HealthClient::with_interceptor(channel, inject);
    let tracer = global::tracer("ch10");
    let span = tracer
        .span_builder("grpc.health.v1.Health/Check")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new(RPC_SYSTEM_NAME, "grpc"),
            KeyValue::new(RPC_METHOD, "grpc.health.v1.Health/Check"),
        ])
        .start(&tracer);
    let cx = Context::current_with_span(span);
    let answer = client
        .check(HealthCheckRequest::default())
        .with_context(cx.clone())
        .await?;
    cx.span().end();
    println!("health: {:?}", answer.into_inner().status());
    // ANCHOR_END: wire

    server.abort();
    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
