//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with a binary
//! protobuf or OTLP/JSON body, optionally gzip-compressed.

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message;

use crate::store::{Admission, Logs, Metrics, Signal, Store, Traces};
use crate::{Compression, Protocol};

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

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

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
const INVALID_ARGUMENT: i32 = 3;
const NOT_FOUND: i32 = 5;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

async fn not_found(State(store): State<Arc<Store>>, uri: axum::http::Uri) -> Response {
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
    match decode::<S>(&store, &headers, body).await {
        Err((refusal, protocol)) => {
            store.reject();
            refusal.into_response(protocol)
        }
        Ok((request, protocol, compression, size)) => {
            match store.admit::<S>(request, protocol, compression, size) {
                Admission::Accepted(response) => encoded(StatusCode::OK, protocol, &response),
                Admission::InjectedFailure => Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    "the receiver was told to fail this request (retry it)",
                )
                .into_response(protocol),
            }
        }
    }
}

type Decoded<R> = (R, Protocol, Compression, usize);

/// Checks the headers, reads the body within the limit, inflates and decodes it.
async fn decode<S: Signal>(
    store: &Store,
    headers: &HeaderMap,
    body: Body,
) -> Result<Decoded<S::Request>, (Refusal, Protocol)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let protocol = match media.as_str() {
        PROTOBUF => Protocol::HttpProtobuf,
        JSON => Protocol::HttpJson,
        _ => {
            return Err((
                Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    INVALID_ARGUMENT,
                    format!(
                        "unsupported Content-Type {content_type:?}; OTLP/HTTP takes \
                         {PROTOBUF} or {JSON}"
                    ),
                ),
                Protocol::HttpProtobuf,
            ));
        }
    };
    let refuse = |status, code, message: String| (Refusal::new(status, code, message), protocol);
    let limit = store.config.max_body_bytes;
    let too_large = |what: &str| {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            RESOURCE_EXHAUSTED,
            format!("{what} is larger than the limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large("the body"));
    }
    let compression = match headers
        .get(header::CONTENT_ENCODING)
        .map(HeaderValue::to_str)
    {
        None => Compression::None,
        Some(Ok(v)) if v.eq_ignore_ascii_case("identity") => Compression::None,
        Some(Ok(v)) if v.eq_ignore_ascii_case("gzip") => Compression::Gzip,
        Some(other) => {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                INVALID_ARGUMENT,
                format!("unsupported Content-Encoding {other:?}; this receiver takes gzip"),
            ));
        }
    };
    let raw: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large("the body"))?;
    let size = raw.len();
    let plain: Vec<u8> = match compression {
        Compression::None => raw.to_vec(),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    refuse(
                        StatusCode::BAD_REQUEST,
                        INVALID_ARGUMENT,
                        format!("the body is not valid gzip: {e}"),
                    )
                })?;
            if out.len() > limit {
                return Err(too_large("the decompressed body"));
            }
            out
        }
    };
    let request = match protocol {
        Protocol::HttpJson => serde_json::from_slice::<S::Request>(&plain).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("the body is not a valid OTLP/JSON request: {e}"),
            )
        })?,
        _ => S::Request::decode(&plain[..]).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("the body is not a valid protobuf request: {e}"),
            )
        })?,
    };
    Ok((request, protocol, compression, size))
}

/// A response whose body is `message` in the request's encoding.
fn encoded<M: Message + serde::Serialize>(
    status: StatusCode,
    protocol: Protocol,
    message: &M,
) -> Response {
    match protocol {
        Protocol::HttpJson => match serde_json::to_vec(message) {
            Ok(body) => (status, [(header::CONTENT_TYPE, JSON)], body).into_response(),
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
