//! Every kind of bad input gets its status code and a message, and is
//! counted; injected failures and partial successes are answered as
//! configured.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use otlp_receiver::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use otlp_receiver::proto::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_receiver::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_receiver::{Config, Receiver, RpcStatus};
use prost::Message;

/// A raw HTTP/1.1 POST; returns the status code and the body.
fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, response[split + 4..].to_vec())
}

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const GZIP: (&str, &str) = ("Content-Encoding", "gzip");

fn one_span_request(name: &str) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: name.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// Runs the blocking raw-socket client off the runtime.
async fn http(
    addr: SocketAddr,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    tokio::task::spawn_blocking(move || post(addr, path, &headers, &body))
        .await
        .expect("client thread")
}

fn status_message(body: &[u8]) -> String {
    RpcStatus::decode(body)
        .expect("a google.rpc.Status body")
        .message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bad_input_is_refused_and_counted() {
    let rx = Receiver::start_with(Config::default().max_body_bytes(1024))
        .await
        .expect("receiver");
    let addr = rx.http_addr();

    let (status, body) =
        http(addr, "/v1/traces", vec![PROTOBUF], vec![0xff, 0xff, 0xff]).await;
    assert_eq!(status, 400);
    assert!(status_message(&body).contains("not a valid protobuf"));

    let (status, body) = http(
        addr,
        "/v1/traces",
        vec![JSON],
        b"{\"resourceSpans\": 7}".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let json: RpcStatus = serde_json::from_slice(&body).expect("a JSON Status body");
    assert!(
        json.message.contains("not a valid OTLP/JSON"),
        "{}",
        json.message
    );

    let (status, body) =
        http(addr, "/v1/logs", vec![PROTOBUF, GZIP], b"not gzip".to_vec()).await;
    assert_eq!(status, 400);
    assert!(status_message(&body).contains("not valid gzip"));

    let (status, body) = http(
        addr,
        "/v1/metrics",
        vec![("Content-Type", "text/plain")],
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(status, 415);
    assert!(status_message(&body).contains("text/plain"));

    let (status, body) = http(
        addr,
        "/v1/traces",
        vec![PROTOBUF, ("Content-Encoding", "br")],
        vec![],
    )
    .await;
    assert_eq!(status, 415);
    assert!(status_message(&body).contains("Content-Encoding"));

    let (status, body) = http(addr, "/v1/profiles", vec![PROTOBUF], vec![]).await;
    assert_eq!(status, 404);
    assert!(status_message(&body).contains("/v1/profiles"));

    let (status, body) =
        http(addr, "/v1/traces", vec![PROTOBUF], vec![0; 4096]).await;
    assert_eq!(status, 413);
    assert!(status_message(&body).contains("1024 bytes"));

    // Small on the wire, too large once inflated.
    let bomb = gzip(&[0; 100_000]);
    assert!(bomb.len() < 1024);
    let (status, body) = http(addr, "/v1/traces", vec![PROTOBUF, GZIP], bomb).await;
    assert_eq!(status, 413);
    assert!(status_message(&body).contains("decompressed"));

    let stats = rx.stats();
    assert_eq!(stats.rejected_requests, 8);
    assert_eq!(stats.accepted_requests, 0);
    assert!(
        rx.traces().is_empty() && rx.metrics().is_empty() && rx.logs().is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_accepts_hand_written_otlp_json_and_gzip() {
    let rx = Receiver::start().await.expect("receiver");
    // The shape of the OTLP specification's JSON example: hex ids,
    // lowerCamelCase names, enums as integers, 64-bit integers as strings.
    let json = br#"{"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"by-hand"}}]},
      "scopeSpans":[{"scope":{"name":"manual"},"spans":[{
        "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
        "parentSpanId":"eee19b7ec3c1b173","name":"I'm a server span","kind":2,
        "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
        "attributes":[{"key":"retries","value":{"intValue":"3"}}]}]}]}]}"#;
    let (status, body) =
        http(rx.http_addr(), "/v1/traces", vec![JSON, GZIP], gzip(json)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let response: ExportTraceServiceResponse =
        serde_json::from_slice(&body).expect("json");
    assert_eq!(response.partial_success, None);

    let spans = rx.spans();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(hex(&span.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(hex(&span.span_id), "eee19b7ec3c1b174");
    assert_eq!(hex(&span.parent_span_id), "eee19b7ec3c1b173");
    assert_eq!(
        (span.kind, span.start_time_unix_nano),
        (2, 1_544_712_660_000_000_000)
    );
    let received = &rx.traces()[0];
    assert_eq!(received.protocol, otlp_receiver::Protocol::HttpJson);
    assert_eq!(received.compression, otlp_receiver::Compression::Gzip);
    assert_eq!(received.body_bytes, gzip(json).len());
    assert_eq!(received.protobuf_bytes, received.request.encoded_len());

    // Rendering gives the same ids back as hex, and masks times.
    let text = otlp_receiver::json::masked(&received.request).expect("json");
    assert!(
        text.contains("\"traceId\": \"5b8efff798038103d269b633813fc60c\""),
        "{text}"
    );
    assert!(text.contains("\"startTimeUnixNano\": \"<time>\""), "{text}");
    assert!(!text.contains("1544712660000000000"), "{text}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_injected_failures_then_partial_success() {
    let rx = Receiver::start_with(
        Config::default()
            .fail_first(2)
            .partial_success(1, "span too old"),
    )
    .await
    .expect("receiver");
    let body = one_span_request("late").encode_to_vec();
    for _ in 0..2 {
        let (status, reply) =
            http(rx.http_addr(), "/v1/traces", vec![PROTOBUF], body.clone()).await;
        assert_eq!(status, 503);
        assert!(status_message(&reply).contains("retry"));
    }
    let (status, reply) =
        http(rx.http_addr(), "/v1/traces", vec![PROTOBUF], body).await;
    assert_eq!(status, 200);
    let response = ExportTraceServiceResponse::decode(&reply[..]).expect("response");
    let partial = response.partial_success.expect("a partial success");
    assert_eq!(
        (partial.rejected_spans, partial.error_message.as_str()),
        (1, "span too old")
    );
    let stats = rx.stats();
    assert_eq!(
        (
            stats.injected_failures,
            stats.accepted_requests,
            stats.partial_successes,
            stats.rejected_requests
        ),
        (2, 1, 1, 0)
    );
}

/// A message with the request's field 1 (`resource_spans`) filled with bytes
/// that are not a `ResourceSpans`: it encodes fine and cannot be decoded.
#[derive(Clone, PartialEq, prost::Message)]
struct Garbage {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_bad_input_is_refused_and_counted() {
    let rx =
        Receiver::start_with(Config::default().max_body_bytes(1024).fail_first(1))
            .await
            .expect("receiver");
    let channel = tonic::transport::Endpoint::from_shared(rx.grpc_endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");

    // Undecodable: tonic says INTERNAL, the receiver corrects it.
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    let path =
        http_path("/opentelemetry.proto.collector.trace.v1.TraceService/Export");
    let err = grpc
        .unary::<Garbage, ExportTraceServiceResponse, _>(
            tonic::Request::new(Garbage {
                data: vec![0xff, 0xff, 0xff],
            }),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("garbage is refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err}");

    // Too large: OUT_OF_RANGE in tonic, RESOURCE_EXHAUSTED here.
    let mut client = TraceServiceClient::new(channel.clone());
    let err = client
        .export(one_span_request(&"x".repeat(2000)))
        .await
        .expect_err("too large");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err}");

    // Small on the wire, too large once inflated: tonic's OUT_OF_RANGE,
    // RESOURCE_EXHAUSTED here too.
    let mut gzip_client = TraceServiceClient::new(channel.clone())
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let err = gzip_client
        .export(one_span_request(&"x".repeat(100_000)))
        .await
        .expect_err("too large once inflated");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err}");

    // The first well-formed request fails on purpose, the second is kept.
    let err = client
        .export(one_span_request("first"))
        .await
        .expect_err("injected failure");
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err}");
    client
        .export(one_span_request("second"))
        .await
        .expect("accepted");

    // An unknown method.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let err = grpc
        .unary::<ExportTraceServiceRequest, ExportTraceServiceResponse, _>(
            tonic::Request::new(one_span_request("lost")),
            http_path(
                "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
            ),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("no profiles service");
    assert_eq!(err.code(), tonic::Code::Unimplemented, "{err}");

    let stats = rx.stats();
    assert_eq!(
        (
            stats.rejected_requests,
            stats.injected_failures,
            stats.accepted_requests
        ),
        (4, 1, 1)
    );
    let names: Vec<String> = rx.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["second".to_string()]);
    // The body as it came: a 5-byte gRPC frame header and the message.
    let kept = &rx.traces()[0];
    assert_eq!(kept.body_bytes, kept.protobuf_bytes + 5);
}

fn http_path(path: &'static str) -> tonic::codegen::http::uri::PathAndQuery {
    tonic::codegen::http::uri::PathAndQuery::from_static(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discarding_receiver_counts_but_keeps_nothing() {
    let rx = Receiver::start_with(Config::default().discard_requests())
        .await
        .expect("receiver");
    let body = one_span_request("counted").encode_to_vec();
    let (status, _) = http(rx.http_addr(), "/v1/traces", vec![PROTOBUF], body).await;
    assert_eq!(status, 200);
    rx.wait_for_spans(1, Duration::from_secs(10))
        .await
        .expect("counted");
    assert_eq!((rx.stats().spans, rx.stats().accepted_requests), (1, 1));
    assert!(rx.traces().is_empty() && rx.spans().is_empty());
}
