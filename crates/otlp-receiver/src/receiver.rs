//! The running receiver: [`Receiver::start`] binds the gRPC and HTTP
//! servers, and its methods read back what arrived, wait for it, and write
//! it as a capture.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{self, Store};
use crate::{
    Config, Error, ExportLogsServiceRequest, ExportMetricsServiceRequest,
    ExportTraceServiceRequest, Received, Stats, grpc, http,
};

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
    pub fn write_trace_capture(
        &self,
        path: &std::path::Path,
    ) -> std::io::Result<usize> {
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
    pub async fn wait_for_spans(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Span>, Error> {
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
        self.stop_serving().await;
    }

    /// Stops accepting, answers the requests already in, and waits for both
    /// servers to finish; the counts stay readable, and are then final: a
    /// request answered during the drain is in them.
    pub async fn stop_serving(&mut self) {
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
