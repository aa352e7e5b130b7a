//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with a binary
//! protobuf or OTLP/JSON body, optionally gzip-compressed.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message;

use crate::decode::{self, DecodeError, JSON, PROTOBUF};
use crate::fault::{Answer, retry_after_seconds};
use crate::store::{Logs, Metrics, Signal, Store, Traces};
use crate::{Compression, Fault, Protocol};

/// `google.rpc.Status`, the body of every OTLP/HTTP error response
/// (OTLP specification, "OTLP/HTTP Response", "Failures").
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct RpcStatus {
    /// A `google.rpc.Code` value.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What was wrong, for a human.
    #[prost(string, tag = "2")]
    pub message: String,
}

pub(crate) fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/v1/traces", post(export::<Traces>))
        .route("/v1/metrics", post(export::<Metrics>))
        .route("/v1/logs", post(export::<Logs>))
        .fallback(not_found)
        .with_state(store)
}

/// A refusal: status, gRPC-style code and message.
struct Refusal {
    status: StatusCode,
    code: i32,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    /// The error response, encoded like the request (protobuf unless JSON).
    fn into_response(self, protocol: Protocol) -> Response {
        let status = RpcStatus {
            code: self.code,
            message: self.message,
        };
        encoded(self.status, protocol, &status)
    }
}

// google.rpc.Code values used below.
const NOT_FOUND: i32 = 5;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

async fn not_found(
    State(store): State<Arc<Store>>,
    uri: axum::http::Uri,
) -> Response {
    store.reject();
    Refusal::new(
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        format!(
            "no OTLP endpoint at {}; use /v1/traces, /v1/metrics or /v1/logs",
            uri.path()
        ),
    )
    .into_response(Protocol::HttpProtobuf)
}

async fn export<S: Signal>(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (request, protocol, compression, size) =
        match decode::<S>(&store, &headers, body).await {
            Ok(decoded) => decoded,
            Err((refusal, protocol)) => {
                store.reject();
                return refusal.into_response(protocol);
            }
        };
    if let Some(fault) = store.fault::<S>(&request) {
        return faulted::<S>(fault, protocol, &request).await;
    }
    let response = store.admit::<S>(request, protocol, compression, size);
    encoded(StatusCode::OK, protocol, &response)
}

/// The answer to a request the fault plan hit (the request is not kept).
async fn faulted<S: Signal>(
    fault: Fault,
    protocol: Protocol,
    request: &S::Request,
) -> Response {
    match fault.answer().await {
        Answer::Refuse {
            throttled,
            message,
            retry_delay,
        } => {
            let (status, code) = if throttled {
                (StatusCode::TOO_MANY_REQUESTS, RESOURCE_EXHAUSTED)
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
            };
            let mut response =
                Refusal::new(status, code, message).into_response(protocol);
            if let Some(delay) = retry_delay {
                let seconds = HeaderValue::from(retry_after_seconds(delay));
                response.headers_mut().insert(header::RETRY_AFTER, seconds);
            }
            response
        }
        Answer::Cut => crate::fault::cut_response(PROTOBUF),
        Answer::Page => crate::fault::not_otlp_response(),
        Answer::RejectAll => encoded(
            StatusCode::OK,
            protocol,
            &crate::store::reject_all::<S>(request),
        ),
    }
}

type Decoded<R> = (R, Protocol, Compression, usize);

impl Refusal {
    /// The answer to a body [`decode`](crate::decode) refused.
    fn decode(error: DecodeError) -> Refusal {
        let status = StatusCode::from_u16(error.http_status())
            .unwrap_or(StatusCode::BAD_REQUEST);
        Refusal::new(status, error.rpc_code(), error.to_string())
    }
}

/// A header as text; bytes that are not UTF-8 are replaced, so a bad value
/// is still shown in the refusal.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Checks the headers, reads the body within the limit, then decodes it with
/// [`decode::decode_body`], the one decoding path (also the fuzz target's).
async fn decode<S: Signal>(
    store: &Store,
    headers: &HeaderMap,
    body: Body,
) -> Result<Decoded<S::Request>, (Refusal, Protocol)> {
    let content_type = header_text(headers, header::CONTENT_TYPE);
    let encoding = header_text(headers, header::CONTENT_ENCODING);
    // Refuse what can be refused before reading the body.
    let protocol = decode::protocol(content_type.as_deref())
        .map_err(|e| (Refusal::decode(e), Protocol::HttpProtobuf))?;
    let refuse = |e: DecodeError| (Refusal::decode(e), protocol);
    let limit = store.config.max_body_bytes;
    let too_large = DecodeError::TooLarge {
        what: "the body",
        limit,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(refuse(too_large));
    }
    decode::compression(encoding.as_deref()).map_err(refuse)?;
    let raw: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| refuse(too_large))?;
    let decoded = decode::decode_body::<S::Request>(
        content_type.as_deref(),
        encoding.as_deref(),
        &raw,
        limit,
    )
    .map_err(refuse)?;
    Ok((
        decoded.request,
        decoded.protocol,
        decoded.compression,
        decoded.body_bytes,
    ))
}

/// A response whose body is `message` in the request's encoding.
fn encoded<M: Message + serde::Serialize>(
    status: StatusCode,
    protocol: Protocol,
    message: &M,
) -> Response {
    match protocol {
        Protocol::HttpJson => match serde_json::to_vec(message) {
            Ok(body) => {
                (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
            }
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot encode the response as JSON: {e}"),
            )
                .into_response(),
        },
        _ => (
            status,
            [(header::CONTENT_TYPE, PROTOBUF)],
            message.encode_to_vec(),
        )
            .into_response(),
    }
}
