//! OTLP/gRPC: the three collector services of opentelemetry-proto, served
//! by tonic inside an axum router so one layer can count (and correct)
//! the errors tonic answers by itself.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Status};

use crate::fault::Answer;
use crate::store::{Logs, Metrics, Signal, Store, Traces};
use crate::{Compression, Fault, Protocol};

/// Marks a status the receiver produced on purpose, so the counting layer
/// does not count it as bad input. Its value says what to answer: `1` the
/// status as it is, `reset` a cut response, `not-otlp` an HTML page.
const INJECTED: &str = "x-otlp-receiver-injected";

#[derive(Clone)]
struct Service(Arc<Store>);

impl Service {
    async fn export<S: Signal>(
        &self,
        request: Request<S::Request>,
    ) -> Result<S::Response, Status> {
        let compression = match request.metadata().get("grpc-encoding") {
            Some(v) if v.as_bytes().eq_ignore_ascii_case(b"gzip") => {
                Compression::Gzip
            }
            _ => Compression::None,
        };
        // The size measured by `measure_body` (the whole gRPC frame, as it
        // came); the message's own size if the request did not pass there.
        let wire = request.extensions().get::<WireSize>().map(|w| w.0);
        let request = request.into_inner();
        let size = wire.unwrap_or_else(|| request.encoded_len());
        if let Some(fault) = self.0.fault::<S>(&request) {
            if fault == Fault::Reject {
                return Ok(crate::store::reject_all::<S>(&request));
            }
            return Err(faulted(fault).await);
        }
        Ok(self
            .0
            .admit::<S>(request, Protocol::Grpc, compression, size))
    }
}

/// The status for a request the fault plan hit (the request is not kept),
/// marked so that `count_refusals` lets it through or replaces it.
async fn faulted(fault: Fault) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    let (mut status, mark) = match fault.answer().await {
        Answer::Refuse {
            throttled,
            message,
            retry_delay,
        } => {
            let code = if throttled {
                tonic::Code::ResourceExhausted
            } else {
                tonic::Code::Unavailable
            };
            let status = match retry_delay {
                Some(delay) => Status::with_error_details(
                    code,
                    message,
                    ErrorDetails::with_retry_info(Some(delay)),
                ),
                None => Status::new(code, message),
            };
            (status, "1")
        }
        Answer::Cut => (Status::unavailable("cut"), "reset"),
        Answer::Page => (Status::unavailable("not OTLP"), "not-otlp"),
        // Answered as an OK response before `faulted` is reached.
        Answer::RejectAll => (Status::internal("reject answered as OK"), "1"),
    };
    status
        .metadata_mut()
        .insert(INJECTED, tonic::metadata::MetadataValue::from_static(mark));
    status
}

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
        Service::export::<Traces>(self, request)
            .await
            .map(tonic::Response::new)
    }
}

#[tonic::async_trait]
impl MetricsService for Service {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, Status> {
        Service::export::<Metrics>(self, request)
            .await
            .map(tonic::Response::new)
    }
}

#[tonic::async_trait]
impl LogsService for Service {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, Status> {
        Service::export::<Logs>(self, request)
            .await
            .map(tonic::Response::new)
    }
}

pub(crate) fn router(store: Arc<Store>) -> Router {
    let service = Service(store.clone());
    let limit = store.config.max_body_bytes;
    let routes = tonic::service::Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        MetricsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        LogsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    );
    routes
        .into_axum_router()
        .layer(axum::middleware::map_response_with_state(
            store.clone(),
            count_refusals,
        ))
        .layer(axum::middleware::from_fn_with_state(store, measure_body))
}

/// The size of a gRPC request body as it arrived: the 5-byte frame header
/// and the message, compressed if it was.
#[derive(Clone, Copy, Debug)]
struct WireSize(usize);

/// Reads the request body (at most the size limit plus the frame header),
/// notes its size for the service, and hands it on. A larger body is
/// refused here with `RESOURCE_EXHAUSTED`.
async fn measure_body(
    State(store): State<Arc<Store>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = store.config.max_body_bytes.saturating_add(5);
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        store.reject();
        let status = Status::resource_exhausted(format!(
            "the gRPC message is larger than the limit of {} bytes",
            store.config.max_body_bytes
        ));
        // This layer is outside `count_refusals`, which never sees this answer.
        return status.into_http::<axum::body::Body>();
    };
    parts.extensions.insert(WireSize(bytes.len()));
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

// gRPC status codes (grpc/grpc doc/statuscodes.md).
const OK: &str = "0";
const INVALID_ARGUMENT: &str = "3";
const RESOURCE_EXHAUSTED: &str = "8";
const OUT_OF_RANGE: &str = "11";
const INTERNAL: &str = "13";

/// Counts every error answer the receiver did not produce on purpose, and
/// corrects two of tonic's codes to what the OTLP specification expects:
/// an undecodable message is `INTERNAL` in tonic but `INVALID_ARGUMENT`
/// in OTLP, and an oversized one is `OUT_OF_RANGE` (which OTLP clients
/// retry) instead of `RESOURCE_EXHAUSTED` without retry information (which
/// they do not).
async fn count_refusals(
    State(store): State<Arc<Store>>,
    mut response: Response,
) -> Response {
    let headers = response.headers_mut();
    match headers.remove(INJECTED).as_ref().map(HeaderValue::as_bytes) {
        Some(b"reset") => return crate::fault::cut_response("application/grpc"),
        Some(b"not-otlp") => return crate::fault::not_otlp_response(),
        Some(_) => return response,
        None => {}
    }
    let Some(code) = headers.get("grpc-status").and_then(|v| v.to_str().ok()) else {
        return response;
    };
    if code == OK {
        return response;
    }
    store.reject();
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .replace("%20", " ");
    let corrected = match code {
        INTERNAL if message.contains("decode") => Some(INVALID_ARGUMENT),
        OUT_OF_RANGE if message.contains("too large") => Some(RESOURCE_EXHAUSTED),
        _ => None,
    };
    if let Some(code) = corrected {
        headers.insert("grpc-status", HeaderValue::from_static(code));
    }
    response
}
