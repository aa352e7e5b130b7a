//! What the receiver keeps, and the one admission path both servers share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use tokio::sync::watch;

use crate::{Compression, Config, Fault, PartialSuccess, Protocol, Received, Stats};

/// Locks a mutex, ignoring poisoning: the data is plain and a panicking test
/// thread must not hide what was received.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Number of spans in a trace export request.
pub fn span_count(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Number of data points (of every kind) in a metrics export request.
pub fn metric_point_count(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

/// Number of log records in a logs export request.
pub fn log_record_count(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}

/// The answer to a request a [`Fault::Reject`] hit: a partial success that
/// rejects every item in it.
pub(crate) fn reject_all<S: Signal>(request: &S::Request) -> S::Response {
    S::response(Some(&PartialSuccess {
        rejected: S::count(request) as i64,
        message: "rejected by the receiver's fault plan".into(),
    }))
}

/// One OTLP signal: its request and response messages and where it is kept.
pub(crate) trait Signal: Send + Sync + 'static {
    type Request: Message
        + Default
        + Clone
        + serde::de::DeserializeOwned
        + Send
        + 'static;
    type Response: Message + Default + serde::Serialize + Send + 'static;
    /// Where the signal's faulted items are counted: 0 spans, 1 metric
    /// points, 2 log records.
    const INDEX: usize;
    /// Items in a request (spans, data points, log records).
    fn count(req: &Self::Request) -> usize;
    /// The response for an accepted request.
    fn response(partial: Option<&PartialSuccess>) -> Self::Response;
    /// Keeps an accepted request.
    fn keep(store: &Store, received: Received<Self::Request>);
}

pub(crate) struct Traces;
pub(crate) struct Metrics;
pub(crate) struct Logs;

impl Signal for Traces {
    const INDEX: usize = 0;
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;
    fn count(req: &Self::Request) -> usize {
        span_count(req)
    }
    fn response(partial: Option<&PartialSuccess>) -> Self::Response {
        ExportTraceServiceResponse {
            partial_success: partial.map(|p| ExportTracePartialSuccess {
                rejected_spans: p.rejected,
                error_message: p.message.clone(),
            }),
        }
    }
    fn keep(store: &Store, received: Received<Self::Request>) {
        store
            .spans
            .fetch_add(Self::count(&received.request) as u64, Ordering::SeqCst);
        if store.config.keep_requests {
            lock(&store.traces).push(received);
        }
    }
}

impl Signal for Metrics {
    const INDEX: usize = 1;
    type Request = ExportMetricsServiceRequest;
    type Response = ExportMetricsServiceResponse;
    fn count(req: &Self::Request) -> usize {
        metric_point_count(req)
    }
    fn response(partial: Option<&PartialSuccess>) -> Self::Response {
        ExportMetricsServiceResponse {
            partial_success: partial.map(|p| ExportMetricsPartialSuccess {
                rejected_data_points: p.rejected,
                error_message: p.message.clone(),
            }),
        }
    }
    fn keep(store: &Store, received: Received<Self::Request>) {
        store
            .metric_points
            .fetch_add(Self::count(&received.request) as u64, Ordering::SeqCst);
        if store.config.keep_requests {
            lock(&store.metrics).push(received);
        }
    }
}

impl Signal for Logs {
    const INDEX: usize = 2;
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;
    fn count(req: &Self::Request) -> usize {
        log_record_count(req)
    }
    fn response(partial: Option<&PartialSuccess>) -> Self::Response {
        ExportLogsServiceResponse {
            partial_success: partial.map(|p| ExportLogsPartialSuccess {
                rejected_log_records: p.rejected,
                error_message: p.message.clone(),
            }),
        }
    }
    fn keep(store: &Store, received: Received<Self::Request>) {
        store
            .log_records
            .fetch_add(Self::count(&received.request) as u64, Ordering::SeqCst);
        if store.config.keep_requests {
            lock(&store.logs).push(received);
        }
    }
}

/// Everything received, and the counters.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) config: Config,
    pub(crate) traces: Mutex<Vec<Received<ExportTraceServiceRequest>>>,
    pub(crate) metrics: Mutex<Vec<Received<ExportMetricsServiceRequest>>>,
    pub(crate) logs: Mutex<Vec<Received<ExportLogsServiceRequest>>>,
    accepted: AtomicU64,
    rejected: AtomicU64,
    injected: AtomicU64,
    partial: AtomicU64,
    spans: AtomicU64,
    metric_points: AtomicU64,
    log_records: AtomicU64,
    failures_left: AtomicU64,
    /// Well-formed requests seen by the fault plan.
    seen: AtomicU64,
    /// Items in faulted requests: spans, metric points, log records.
    faulted: [AtomicU64; 3],
    /// Bumped after every accepted request; waiters watch it.
    pub(crate) changed: watch::Sender<u64>,
}

impl Store {
    pub(crate) fn new(config: Config) -> Store {
        Store {
            failures_left: AtomicU64::new(config.fail_first),
            config,
            traces: Mutex::default(),
            metrics: Mutex::default(),
            logs: Mutex::default(),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            partial: AtomicU64::new(0),
            spans: AtomicU64::new(0),
            metric_points: AtomicU64::new(0),
            log_records: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            faulted: Default::default(),
            changed: watch::Sender::new(0),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            accepted_requests: self.accepted.load(Ordering::SeqCst),
            rejected_requests: self.rejected.load(Ordering::SeqCst),
            injected_failures: self.injected.load(Ordering::SeqCst),
            partial_successes: self.partial.load(Ordering::SeqCst),
            spans: self.spans.load(Ordering::SeqCst),
            metric_points: self.metric_points.load(Ordering::SeqCst),
            log_records: self.log_records.load(Ordering::SeqCst),
            faulted_spans: self.faulted[0].load(Ordering::SeqCst),
            faulted_metric_points: self.faulted[1].load(Ordering::SeqCst),
            faulted_log_records: self.faulted[2].load(Ordering::SeqCst),
        }
    }

    /// Counts a request refused as bad input.
    pub(crate) fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }

    /// The fault a well-formed request gets, if any ([`Config::fail_first`]
    /// first, then the fault plan); a faulted request's items are counted.
    pub(crate) fn fault<S: Signal>(&self, request: &S::Request) -> Option<Fault> {
        let fail_first = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let fault = if fail_first {
            Some(Fault::Unavailable(None))
        } else {
            let plan = self.config.fault?;
            plan.hits(self.seen.fetch_add(1, Ordering::SeqCst))
                .then_some(plan.fault)
        };
        if fault.is_some() {
            self.injected.fetch_add(1, Ordering::SeqCst);
            self.faulted[S::INDEX]
                .fetch_add(S::count(request) as u64, Ordering::SeqCst);
        }
        fault
    }

    /// Keeps a decoded request and builds the response.
    pub(crate) fn admit<S: Signal>(
        &self,
        request: S::Request,
        protocol: Protocol,
        compression: Compression,
        body_bytes: usize,
    ) -> S::Response {
        let protobuf_bytes = request.encoded_len();
        S::keep(
            self,
            Received {
                request,
                protocol,
                compression,
                body_bytes,
                protobuf_bytes,
            },
        );
        let partial = self.config.partial_success.as_ref();
        if partial.is_some() {
            self.partial.fetch_add(1, Ordering::SeqCst);
        }
        self.accepted.fetch_add(1, Ordering::SeqCst);
        self.changed.send_modify(|n| *n += 1);
        S::response(partial)
    }
}
