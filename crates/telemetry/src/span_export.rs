//! The book's OTLP span exporter for protobuf, over gRPC or HTTP: the
//! request body comes from [`span_wire`](crate::span_wire), written
//! straight from the spans, and goes out through tonic or through the
//! book's HTTP client ([`OtlpOnlyClient`]). What it keeps of
//! opentelemetry-otlp's exporter: the endpoint, the timeout
//! (`OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`), the headers
//! (`OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`), gzip, and the retry policy
//! ([`retry`](crate::retry)). What it adds: spans a gRPC partial success
//! rejects are counted, as they already were over HTTP; and over gRPC the
//! connection is driven by a runtime of the exporter's own, on the batch
//! processor's export thread, not by the application's (see [`Driver`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes};
use http::uri::PathAndQuery;
use opentelemetry_http::HttpClient as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder,
};
use tonic::transport::{Channel, Endpoint};

use crate::TelemetryError;
use crate::counting::SpanCounters;
use crate::fast_batch::Returned;
use crate::otlp_http::{OtlpOnlyClient, rejected_in_protobuf, timeout_from_env};
use crate::retry::{Failure, with_retries};
use crate::span_wire::SpanEncoder;

const EXPORT_PATH: &str =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const USER_AGENT: &str = concat!("otlp-csp-telemetry/", env!("CARGO_PKG_VERSION"));

/// Exports spans as OTLP/protobuf; see the module's documentation.
pub(crate) struct OtlpSpanExporter {
    encoder: SpanEncoder,
    transport: Transport,
    timeout: Duration,
    counters: SpanCounters,
    /// The request buffer, between exports.
    spare: Mutex<Vec<u8>>,
    /// Where each batch's emptied vector goes back to the batch processor.
    returned: Returned,
    shut_down: AtomicBool,
}

enum Transport {
    Grpc {
        client: tonic::client::Grpc<Channel>,
        headers: tonic::metadata::MetadataMap,
        driver: Driver,
    },
    Http {
        client: OtlpOnlyClient,
        endpoint: http::Uri,
        headers: http::HeaderMap,
        gzip: bool,
    },
}

impl std::fmt::Debug for OtlpSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpSpanExporter")
    }
}

impl OtlpSpanExporter {
    /// OTLP/gRPC to `endpoint`, inside a tokio runtime or not.
    pub(crate) fn grpc(
        endpoint: &str,
        gzip: bool,
        counters: &SpanCounters,
        returned: &Returned,
    ) -> Result<Self, TelemetryError> {
        let timeout = timeout_from_env("TRACES", |n| std::env::var(n).ok());
        let driver = Driver::new()?;
        // tonic spawns the connection's task on the runtime entered here.
        let entered = driver.enter();
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .and_then(|e| e.user_agent(USER_AGENT))
            .map_err(|e| bad_endpoint(endpoint, e))?
            .timeout(timeout)
            .connect_lazy();
        let mut client = tonic::client::Grpc::new(channel);
        if gzip {
            client = client
                .send_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Gzip);
        }
        let mut headers = tonic::metadata::MetadataMap::new();
        for (name, value) in headers_from_env(|n| std::env::var(n).ok())? {
            headers.insert(
                tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes())
                    .map_err(|e| TelemetryError::Exporter(e.to_string()))?,
                tonic::metadata::MetadataValue::try_from(value.as_bytes())
                    .map_err(|e| TelemetryError::Exporter(e.to_string()))?,
            );
        }
        drop(entered);
        let transport = Transport::Grpc {
            client,
            headers,
            driver,
        };
        Ok(Self::with(transport, timeout, counters, returned))
    }

    /// OTLP/HTTP with a protobuf body, posted to `endpoint` (the full URL).
    pub(crate) fn http(
        endpoint: &str,
        gzip: bool,
        counters: &SpanCounters,
        returned: &Returned,
    ) -> Result<Self, TelemetryError> {
        let timeout = timeout_from_env("TRACES", |n| std::env::var(n).ok());
        let endpoint: http::Uri =
            endpoint.parse().map_err(|e| bad_endpoint(endpoint, e))?;
        let mut headers: http::HeaderMap =
            headers_from_env(|n| std::env::var(n).ok())?
                .into_iter()
                .collect();
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        );
        let client = OtlpOnlyClient::for_signal("TRACES", Some(counters))?;
        let transport = Transport::Http {
            client,
            endpoint,
            headers,
            gzip,
        };
        Ok(Self::with(transport, timeout, counters, returned))
    }

    fn with(
        transport: Transport,
        timeout: Duration,
        counters: &SpanCounters,
        returned: &Returned,
    ) -> Self {
        OtlpSpanExporter {
            encoder: SpanEncoder::default(),
            transport,
            timeout,
            counters: counters.clone(),
            spare: Mutex::default(),
            returned: returned.clone(),
            shut_down: AtomicBool::new(false),
        }
    }

    /// One attempt to deliver `body`.
    async fn send(&self, body: &Bytes) -> Result<(), Failure> {
        match &self.transport {
            Transport::Grpc {
                client, headers, ..
            } => {
                let mut client = client.clone();
                client.ready().await.map_err(|e| {
                    Failure::retryable(format!("gRPC connection: {e}"))
                })?;
                let mut request = tonic::Request::new(body.clone());
                *request.metadata_mut() = headers.clone();
                let path = PathAndQuery::from_static(EXPORT_PATH);
                let answer = client.unary(request, path, Raw).await;
                let answer = answer.map_err(|status| Failure::from_grpc(&status))?;
                self.counters
                    .add_rejected(rejected_in_protobuf(answer.get_ref()));
                Ok(())
            }
            Transport::Http {
                client,
                endpoint,
                headers,
                gzip,
            } => {
                let mut request = http::Request::post(endpoint.clone())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf");
                if *gzip {
                    request = request.header(http::header::CONTENT_ENCODING, "gzip");
                }
                let mut request = request
                    .body(body.clone())
                    .map_err(|e| Failure::fatal(e.to_string()))?;
                request.headers_mut().extend(headers.clone());
                // A lost connection, or a 2xx answer that is not OTLP
                // (`OtlpOnlyClient`): worth another try.
                let answer = client
                    .send_bytes(request)
                    .await
                    .map_err(|e| Failure::retryable(format!("HTTP export: {e}")))?;
                if answer.status().is_success() {
                    Ok(()) // the client counted any rejected spans
                } else {
                    Err(Failure::from_http(&answer))
                }
            }
        }
    }
}

impl SpanExporter for OtlpSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        // One buffer serves every batch: taken here, lent to the transport
        // as `Bytes` that share it, and put back once they are all gone.
        let mut body = std::mem::take(
            &mut *self.spare.lock().unwrap_or_else(|p| p.into_inner()),
        );
        body.clear();
        self.encoder.encode(&batch, &mut body);
        self.returned.give(batch);
        if let Transport::Http { gzip: true, .. } = self.transport {
            body = gzip(&body)
                .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        }
        let body = Arc::new(body);
        let bytes = Bytes::from_owner(Shared(Arc::clone(&body)));
        let send = with_retries(self.timeout, || self.send(&bytes));
        let sent = match &self.transport {
            Transport::Grpc { driver, .. } => driver.block_on(send)?,
            Transport::Http { .. } => send.await,
        };
        drop(bytes);
        if let Ok(buffer) = Arc::try_unwrap(body) {
            *self.spare.lock().unwrap_or_else(|p| p.into_inner()) = buffer;
        }
        sent.map_err(|failure| OTelSdkError::InternalFailure(failure.message))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder = SpanEncoder::new(resource);
    }
}

// ANCHOR: driver
/// The gRPC connection's own runtime, with no thread of its own: only an
/// export drives it, with `block_on` on the export thread. So building the
/// exporter needs no runtime, a blocking shutdown cannot starve the export,
/// and the connection's reads and writes run when an export needs them
/// instead of waiting their turn among the application's tasks.
struct Driver(Option<tokio::runtime::Runtime>);
// ANCHOR_END: driver

impl Driver {
    fn new() -> Result<Self, TelemetryError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Driver(Some(rt)))
            .map_err(|e| {
                TelemetryError::Exporter(format!(
                    "cannot start the gRPC exporter's runtime: {e}"
                ))
            })
    }

    fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        self.0.as_ref().map(tokio::runtime::Runtime::enter)
    }

    /// Runs `f` to its end on this thread. The batch processor's export
    /// thread is not a tokio thread; on one, this would block a worker of
    /// another runtime, which tokio forbids, so it is refused.
    fn block_on<T>(&self, f: impl Future<Output = T>) -> Result<T, OTelSdkError> {
        let runtime = self.0.as_ref().ok_or(OTelSdkError::AlreadyShutdown)?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(OTelSdkError::InternalFailure(
                "the gRPC span exporter runs on the batch processor's thread, \
                 not inside a tokio runtime"
                    .into(),
            ));
        }
        Ok(runtime.block_on(f))
    }
}

impl Drop for Driver {
    // Dropping a runtime waits for its tasks, which tokio forbids inside
    // another runtime; the idle connection's task need not end cleanly.
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The request buffer as the owner of the `Bytes` the transports send.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn bad_endpoint(endpoint: &str, e: impl std::fmt::Display) -> TelemetryError {
    TelemetryError::Exporter(format!(
        "the OTLP endpoint {endpoint:?} is not a URL: {e}"
    ))
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        Default::default(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`:
/// `key=value` pairs separated by commas, values percent-encoded (W3C
/// Baggage's format, as the OTLP exporter specification says). A pair
/// that is not one is an error that names it, not a header left out.
fn headers_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, TelemetryError> {
    let Some((name, value)) = [
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ]
    .into_iter()
    .find_map(|name| Some((name, var(name)?))) else {
        return Ok(Vec::new());
    };
    let bad = |pair: &str, why: &str| {
        TelemetryError::Exporter(format!("{name}: {pair:?} {why}"))
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| bad(pair, "is not key=value"))?;
            let v =
                percent_encoding::percent_decode_str(v.trim()).decode_utf8_lossy();
            let k = http::HeaderName::try_from(k.trim())
                .map_err(|_| bad(pair, "has a key that is not a header name"))?;
            let v = http::HeaderValue::try_from(v.as_ref())
                .map_err(|_| bad(pair, "has a value that is not a header value"))?;
            Ok((k, v))
        })
        .collect()
}

/// tonic's codec for a body that is already protobuf: the request goes out
/// as it is, and the answer comes back as bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut DecodeBuf<'_>,
    ) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn headers_are_pairs_with_percent_encoded_values() {
        let vars = [("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x-team = t1 ,")];
        let headers = headers_from_env(env(&vars)).unwrap();
        let pairs: Vec<_> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(pairs, [("api-key", "a b"), ("x-team", "t1")]);
    }

    #[test]
    fn the_signal_variable_wins() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"),
        ];
        let headers = headers_from_env(env(&vars)).unwrap();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].0.as_str(), "b");
    }

    #[test]
    fn a_bad_pair_is_an_error_that_names_it() {
        for bad in ["novalue", "bad key=1", "k=a%0Ab"] {
            let vars = [("OTEL_EXPORTER_OTLP_HEADERS", bad)];
            let err = headers_from_env(env(&vars)).unwrap_err().to_string();
            assert!(
                err.contains("OTEL_EXPORTER_OTLP_HEADERS") && err.contains(bad),
                "{err}"
            );
        }
    }
}
