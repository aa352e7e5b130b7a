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
//! answer every request with a partial success; for fault runs, to answer
//! some of the requests the way a misbehaving collector does ([`Fault`]:
//! throttling with or without a retry delay, a stall, a cut response, a page
//! that is not OTLP).
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
//!
//! # Layout
//!
//! - `receiver`: [`Receiver`], the running servers and what they received.
//! - `config`: [`Config`], how a receiver listens and answers; `fault`:
//!   [`Fault`], how it can answer badly.
//! - `received`: [`Received`], one accepted request, and [`Stats`].
//! - `grpc`, `http`: the two servers; [`decode`]: an OTLP/HTTP body
//!   decoded without a server; [`json`]: OTLP/JSON; `store`: what is kept.
//! - `fuzzing` (feature `fuzzing`): the check the fuzz target runs.

mod config;
pub mod decode;
mod error;
mod fault;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod grpc;
mod http;
pub mod json;
mod received;
mod receiver;
mod store;

pub use config::{Config, DEFAULT_MAX_BODY_BYTES, PartialSuccess};
pub use error::Error;
pub use fault::{Fault, FaultPlan, ParseFaultError};
pub use http::RpcStatus;
pub use opentelemetry_proto::tonic as proto;
pub use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
pub use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use received::{Compression, Protocol, Received, Stats};
pub use receiver::Receiver;
pub use store::{log_record_count, metric_point_count, span_count};
