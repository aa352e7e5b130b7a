//! An in-process OTLP receiver for the book's tests, examples and benchmarks.
//!
//! [`Receiver::start`] binds an OTLP/gRPC server and an OTLP/HTTP server on
//! ephemeral ports of 127.0.0.1. Both accept traces, metrics and logs; HTTP
//! takes binary protobuf (`application/x-protobuf`) and OTLP/JSON
//! (`application/json`), either of them gzip-compressed, and gRPC accepts
//! gzip too. Every accepted request is kept, decoded, with the protocol,
//! compression and size it came in, and a test can wait for a number of
//! spans, metric points or log records with a timeout.
//!
//! Bad input is answered the way the OTLP specification asks ("OTLP/HTTP
//! Response", "Failures") and counted: malformed protobuf, JSON or gzip is a
//! `400 Bad Request` (gRPC `INVALID_ARGUMENT`), a content type other than the
//! two above is `415`, an unknown path `404`, a body above the configured
//! limit `413` (gRPC `RESOURCE_EXHAUSTED`).
//!
//! For the chapter on the protocol, a receiver can be told to answer the
//! first N requests with a retryable error (`503` / `UNAVAILABLE`), or to
//! answer every request with a partial success.
//!
//! ```no_run
//! # async fn demo() -> Result<(), otlp_receiver::Error> {
//! use std::time::Duration;
//! let receiver = otlp_receiver::Receiver::start().await?;
//! // point an OTLP exporter at receiver.grpc_endpoint() or receiver.http_endpoint()
//! let spans = receiver.wait_for_spans(3, Duration::from_secs(5)).await?;
//! println!("{}", spans[0].name);
//! # Ok(()) }
//! ```

pub mod decode;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod grpc;
mod http;
pub mod json;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use opentelemetry_proto::tonic as proto;
pub use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
pub use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use http::RpcStatus;
use store::Store;
pub use store::{log_record_count, metric_point_count, span_count};

/// The default limit on a request body, compressed or not: 4 MiB, the
/// default message limit of gRPC servers.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What can go wrong while starting a receiver or waiting for data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the OS refused.
        source: std::io::Error,
    },
    /// Fewer items than waited for arrived before the timeout.
    #[error("timed out after {after:?} waiting for {wanted} {what}: {got} arrived")]
    Timeout {
        /// What was counted: "spans", "metric points" or "log records".
        what: &'static str,
        /// How many were waited for.
        wanted: usize,
        /// How many had arrived when the time ran out.
        got: usize,
        /// The timeout.
        after: Duration,
    },
}

/// The transport and encoding a request came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OTLP/gRPC: protobuf inside gRPC frames over HTTP/2.
    Grpc,
    /// OTLP/HTTP with a binary protobuf body.
    HttpProtobuf,
    /// OTLP/HTTP with an OTLP/JSON body.
    HttpJson,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        })
    }
}

/// The compression of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Sent as is.
    None,
    /// gzip (`Content-Encoding: gzip`, or gRPC's `grpc-encoding: gzip`).
    Gzip,
}

/// One accepted export request.
#[derive(Clone, Debug)]
pub struct Received<T> {
    /// The decoded request.
    pub request: T,
    /// How it came.
    pub protocol: Protocol,
    /// How its body was compressed.
    pub compression: Compression,
    /// Size of the HTTP body as received, compressed if it was. For gRPC
    /// that is the 5-byte frame header (compression flag and length) and
    /// the message.
    pub body_bytes: usize,
    /// Size of the same request encoded as binary protobuf, whatever it came in.
    pub protobuf_bytes: usize,
}

/// A partial success to answer every accepted request with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialSuccess {
    /// Reported as `rejected_spans`, `rejected_data_points` or `rejected_log_records`.
    pub rejected: i64,
    /// Reported as `error_message`.
    pub message: String,
}

/// How a receiver listens and answers. `Config::default()` binds ephemeral
/// ports on 127.0.0.1, limits bodies to [`DEFAULT_MAX_BODY_BYTES`] and
/// accepts everything well-formed.
#[derive(Clone, Debug)]
pub struct Config {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    max_body_bytes: usize,
    fail_first: u64,
    partial_success: Option<PartialSuccess>,
    keep_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            fail_first: 0,
            partial_success: None,
            keep_requests: true,
        }
    }
}

impl Config {
    /// Listens for OTLP/gRPC on `addr` (port 0 picks a free port).
    pub fn grpc_addr(mut self, addr: SocketAddr) -> Self {
        self.grpc_addr = addr;
        self
    }

    /// Listens for OTLP/HTTP on `addr` (port 0 picks a free port).
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.http_addr = addr;
        self
    }

    /// Refuses bodies larger than `bytes` (before and after decompression)
    /// with `413` / `RESOURCE_EXHAUSTED`.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Answers the first `n` well-formed export requests (of any signal)
    /// with a retryable error, `503 Service Unavailable` or gRPC
    /// `UNAVAILABLE`, without keeping them.
    pub fn fail_first(mut self, n: u64) -> Self {
        self.fail_first = n;
        self
    }

    /// Counts accepted requests and their items but does not keep them, so
    /// that a benchmark sending millions of spans runs in constant memory.
    /// [`Receiver::traces`] and the other lists then stay empty.
    pub fn discard_requests(mut self) -> Self {
        self.keep_requests = false;
        self
    }

    /// Keeps every accepted request but answers it with a partial success.
    pub fn partial_success(mut self, rejected: i64, message: impl Into<String>) -> Self {
        self.partial_success = Some(PartialSuccess {
            rejected,
            message: message.into(),
        });
        self
    }
}

/// Counters of everything a receiver answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Export requests accepted and kept.
    pub accepted_requests: u64,
    /// Requests refused as bad input (400, 404, 413, 415 and their gRPC codes).
    pub rejected_requests: u64,
    /// Well-formed requests answered with the configured retryable error.
    pub injected_failures: u64,
    /// Accepted requests answered with the configured partial success.
    pub partial_successes: u64,
    /// Spans in the accepted requests.
    pub spans: u64,
    /// Metric data points in the accepted requests.
    pub metric_points: u64,
    /// Log records in the accepted requests.
    pub log_records: u64,
}

/// A running receiver. Dropping it stops both servers.
#[derive(Debug)]
pub struct Receiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver with [`Config::default`]. Must be called inside a
    /// tokio runtime, which then runs the servers.
    pub async fn start() -> Result<Receiver, Error> {
        Receiver::start_with(Config::default()).await
    }

    /// Starts a receiver configured by `config`.
    pub async fn start_with(config: Config) -> Result<Receiver, Error> {
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Bind { addr, source })
        };
        let grpc_listener = bind(config.grpc_addr).await?;
        let http_listener = bind(config.http_addr).await?;
        let local = |l: &tokio::net::TcpListener, addr| {
            l.local_addr()
                .map_err(|source| Error::Bind { addr, source })
        };
        let grpc_addr = local(&grpc_listener, config.grpc_addr)?;
        let http_addr = local(&http_listener, config.http_addr)?;

        let store = Arc::new(Store::new(config));
        let (stop, stopped) = watch::channel(false);
        let stopped = SharedStop(stopped);
        let grpc_app = grpc::router(store.clone());
        let http_app = http::router(store.clone());
        let s1 = stopped.clone();
        let grpc_task = tokio::spawn(async move {
            let _ = axum::serve(grpc_listener, grpc_app)
                .with_graceful_shutdown(async move { s1.wait().await })
                .await;
        });
        let http_task = tokio::spawn(async move {
            let _ = axum::serve(http_listener, http_app)
                .with_graceful_shutdown(async move { stopped.wait().await })
                .await;
        });
        Ok(Receiver {
            store,
            grpc_addr,
            http_addr,
            stop,
            servers: vec![grpc_task, http_task],
        })
    }

    /// The OTLP/gRPC endpoint, e.g. `http://127.0.0.1:43170`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The OTLP/HTTP base URL, e.g. `http://127.0.0.1:43180`; the signals
    /// are under `/v1/traces`, `/v1/metrics` and `/v1/logs`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The address the gRPC server listens on.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address the HTTP server listens on.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Every accepted trace export request, in arrival order.
    pub fn traces(&self) -> Vec<Received<ExportTraceServiceRequest>> {
        store::lock(&self.store.traces).clone()
    }

    /// Every trace export request received so far as a *capture*: OTLP/JSON,
    /// one request per line (JSON Lines), the format a collector's file
    /// exporter writes and `trace-view` draws. Returns the text and the
    /// number of spans in it.
    pub fn trace_capture(&self) -> Result<(String, usize), serde_json::Error> {
        let (mut text, mut spans) = (String::new(), 0);
        for received in store::lock(&self.store.traces).iter() {
            text.push_str(&serde_json::to_string(&received.request)?);
            text.push('\n');
            spans += store::span_count(&received.request);
        }
        Ok((text, spans))
    }

    /// Writes [`Receiver::trace_capture`] to `path`; returns the number of
    /// spans written.
    pub fn write_trace_capture(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let (text, spans) = self.trace_capture()?;
        std::fs::write(path, text)?;
        Ok(spans)
    }

    /// Every accepted metrics export request, in arrival order.
    pub fn metrics(&self) -> Vec<Received<ExportMetricsServiceRequest>> {
        store::lock(&self.store.metrics).clone()
    }

    /// Every accepted logs export request, in arrival order.
    pub fn logs(&self) -> Vec<Received<ExportLogsServiceRequest>> {
        store::lock(&self.store.logs).clone()
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<Span> {
        store::lock(&self.store.traces)
            .iter()
            .flat_map(|r| r.request.resource_spans.iter())
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter().cloned())
            .collect()
    }

    /// Every metric received so far, in arrival order.
    pub fn metric_list(&self) -> Vec<Metric> {
        store::lock(&self.store.metrics)
            .iter()
            .flat_map(|r| r.request.resource_metrics.iter())
            .flat_map(|r| r.scope_metrics.iter())
            .flat_map(|s| s.metrics.iter().cloned())
            .collect()
    }

    /// Every log record received so far, in arrival order.
    pub fn log_records(&self) -> Vec<LogRecord> {
        store::lock(&self.store.logs)
            .iter()
            .flat_map(|r| r.request.resource_logs.iter())
            .flat_map(|r| r.scope_logs.iter())
            .flat_map(|s| s.log_records.iter().cloned())
            .collect()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.store.stats()
    }

    /// Waits until at least `n` spans have arrived and returns all spans
    /// received, or [`Error::Timeout`].
    pub async fn wait_for_spans(&self, n: usize, timeout: Duration) -> Result<Vec<Span>, Error> {
        self.wait("spans", n, timeout, |s| s.spans as usize).await?;
        Ok(self.spans())
    }

    /// Waits until at least `n` metric data points have arrived and returns
    /// all metrics received, or [`Error::Timeout`].
    pub async fn wait_for_metric_points(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Metric>, Error> {
        self.wait("metric points", n, timeout, |s| s.metric_points as usize)
            .await?;
        Ok(self.metric_list())
    }

    /// Waits until at least `n` log records have arrived and returns all log
    /// records received, or [`Error::Timeout`].
    pub async fn wait_for_log_records(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<LogRecord>, Error> {
        self.wait("log records", n, timeout, |s| s.log_records as usize)
            .await?;
        Ok(self.log_records())
    }

    /// Waits until `count(stats) >= n`. Subscribing before the first check
    /// means no arrival between the check and the wait is missed.
    async fn wait(
        &self,
        what: &'static str,
        n: usize,
        timeout: Duration,
        count: impl Fn(&Stats) -> usize,
    ) -> Result<(), Error> {
        let mut changed = self.store.changed.subscribe();
        let arrived = tokio::time::timeout(timeout, async {
            loop {
                if count(&self.stats()) >= n {
                    return;
                }
                if changed.changed().await.is_err() {
                    // The store is gone; nothing more can arrive.
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        arrived.map_err(|_| Error::Timeout {
            what,
            wanted: n,
            got: count(&self.stats()),
            after: timeout,
        })
    }

    /// Stops both servers and waits for them to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for server in self.servers.drain(..) {
            let _ = server.await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

/// A stop signal that several servers can wait on.
#[derive(Clone)]
struct SharedStop(watch::Receiver<bool>);

impl SharedStop {
    async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
