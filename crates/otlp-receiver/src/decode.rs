//! Decoding one OTLP/HTTP request body, without a server.
//!
//! The HTTP handler reads the body within the size limit and hands it to
//! [`decode_body`]; the fuzz target `otlp_receiver_body` (see
//! `otlp_receiver::fuzzing`, feature `fuzzing`) calls the same function with
//! hostile bytes. It picks
//! the encoding from the `Content-Type` (`application/x-protobuf` or
//! `application/json`, parameters ignored), inflates a gzip body
//! (`Content-Encoding: gzip`) without ever holding more than the limit, and
//! decodes the request. Every failure is a [`DecodeError`] that says what was
//! wrong; none panics.

use std::io::Read;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde::de::DeserializeOwned;

use crate::{Compression, Protocol};

/// The media type of a binary protobuf body.
pub const PROTOBUF: &str = "application/x-protobuf";
/// The media type of an OTLP/JSON body.
pub const JSON: &str = "application/json";

/// Why a body was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The `Content-Type` is neither of the two OTLP/HTTP encodings.
    #[error("unsupported Content-Type {0:?}; OTLP/HTTP takes {PROTOBUF} or {JSON}")]
    UnsupportedContentType(String),
    /// The `Content-Encoding` is neither absent, `identity` nor `gzip`.
    #[error("unsupported Content-Encoding {0:?}; this receiver takes gzip")]
    UnsupportedEncoding(String),
    /// The body, or what it inflates to, is above the limit.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// `"the body"` or `"the decompressed body"`.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body says gzip but is not.
    #[error("the body is not valid gzip: {0}")]
    Gzip(String),
    /// The body is not an OTLP/JSON request of the signal.
    #[error("the body is not a valid OTLP/JSON request: {0}")]
    Json(String),
    /// The body is not a protobuf request of the signal.
    #[error("the body is not a valid protobuf request: {0}")]
    Protobuf(String),
}

impl DecodeError {
    /// The HTTP status the OTLP specification asks for: `415` for an
    /// unsupported type or encoding, `413` above the limit, else `400`.
    pub fn http_status(&self) -> u16 {
        match self {
            DecodeError::UnsupportedContentType(_)
            | DecodeError::UnsupportedEncoding(_) => 415,
            DecodeError::TooLarge { .. } => 413,
            DecodeError::Gzip(_)
            | DecodeError::Json(_)
            | DecodeError::Protobuf(_) => 400,
        }
    }

    /// The `google.rpc.Code` that goes in the error body:
    /// `RESOURCE_EXHAUSTED` (8) above the limit, else `INVALID_ARGUMENT` (3).
    pub fn rpc_code(&self) -> i32 {
        match self {
            DecodeError::TooLarge { .. } => 8,
            _ => 3,
        }
    }
}

/// Which export request a body holds (the path it was posted to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignalKind {
    /// `/v1/traces`: an `ExportTraceServiceRequest`.
    Traces,
    /// `/v1/metrics`: an `ExportMetricsServiceRequest`.
    Metrics,
    /// `/v1/logs`: an `ExportLogsServiceRequest`.
    Logs,
}

/// A decoded request of any signal.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyRequest {
    /// A trace export request.
    Traces(ExportTraceServiceRequest),
    /// A metrics export request.
    Metrics(ExportMetricsServiceRequest),
    /// A logs export request.
    Logs(ExportLogsServiceRequest),
}

impl AnyRequest {
    /// Size of the request encoded as binary protobuf.
    pub fn encoded_len(&self) -> usize {
        match self {
            AnyRequest::Traces(r) => r.encoded_len(),
            AnyRequest::Metrics(r) => r.encoded_len(),
            AnyRequest::Logs(r) => r.encoded_len(),
        }
    }
}

/// A decoded body and how it came.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<R> {
    /// The request.
    pub request: R,
    /// Protobuf or JSON.
    pub protocol: Protocol,
    /// Whether the body was gzip-compressed.
    pub compression: Compression,
    /// Size of the body as received.
    pub body_bytes: usize,
    /// Size of the body after inflating (equal to `body_bytes` if not compressed).
    pub plain_bytes: usize,
}

/// The encoding a `Content-Type` value names; `None` (no header) is refused.
pub fn protocol(content_type: Option<&str>) -> Result<Protocol, DecodeError> {
    let value = content_type.unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(PROTOBUF) {
        Ok(Protocol::HttpProtobuf)
    } else if media.eq_ignore_ascii_case(JSON) {
        Ok(Protocol::HttpJson)
    } else {
        Err(DecodeError::UnsupportedContentType(value.to_owned()))
    }
}

/// The compression a `Content-Encoding` value names; `None` means none.
pub fn compression(
    content_encoding: Option<&str>,
) -> Result<Compression, DecodeError> {
    match content_encoding.map(str::trim) {
        None => Ok(Compression::None),
        Some(v) if v.eq_ignore_ascii_case("identity") => Ok(Compression::None),
        Some(v) if v.eq_ignore_ascii_case("gzip") => Ok(Compression::Gzip),
        Some(v) => Err(DecodeError::UnsupportedEncoding(v.to_owned())),
    }
}

/// Decodes `body` as a request of type `R` (one of the three export
/// requests), given the request's `Content-Type` and `Content-Encoding`
/// headers. A body above `limit` bytes, compressed or not, is refused, and
/// gzip is inflated to at most `limit + 1` bytes, so a small "gzip bomb"
/// costs at most `limit` bytes of memory before it is refused.
pub fn decode_body<R>(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Decoded<R>, DecodeError>
where
    R: Message + Default + DeserializeOwned,
{
    let protocol = protocol(content_type)?;
    let compression = compression(content_encoding)?;
    if body.len() > limit {
        return Err(DecodeError::TooLarge {
            what: "the body",
            limit,
        });
    }
    let inflated;
    let plain: &[u8] = match compression {
        Compression::None => body,
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| DecodeError::Gzip(e.to_string()))?;
            if out.len() > limit {
                return Err(DecodeError::TooLarge {
                    what: "the decompressed body",
                    limit,
                });
            }
            inflated = out;
            &inflated
        }
    };
    let request = match protocol {
        Protocol::HttpJson => serde_json::from_slice::<R>(plain)
            .map_err(|e| DecodeError::Json(e.to_string()))?,
        _ => R::decode(plain).map_err(|e| DecodeError::Protobuf(e.to_string()))?,
    };
    Ok(Decoded {
        request,
        protocol,
        compression,
        body_bytes: body.len(),
        plain_bytes: plain.len(),
    })
}

/// [`decode_body`] for the request type of `signal`.
pub fn decode_signal(
    signal: SignalKind,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Decoded<AnyRequest>, DecodeError> {
    fn wrap<R>(d: Decoded<R>, f: fn(R) -> AnyRequest) -> Decoded<AnyRequest> {
        Decoded {
            request: f(d.request),
            protocol: d.protocol,
            compression: d.compression,
            body_bytes: d.body_bytes,
            plain_bytes: d.plain_bytes,
        }
    }
    let args = (content_type, content_encoding, body, limit);
    Ok(match signal {
        SignalKind::Traces => wrap(
            decode_body(args.0, args.1, args.2, args.3)?,
            AnyRequest::Traces,
        ),
        SignalKind::Metrics => wrap(
            decode_body(args.0, args.1, args.2, args.3)?,
            AnyRequest::Metrics,
        ),
        SignalKind::Logs => wrap(
            decode_body(args.0, args.1, args.2, args.3)?,
            AnyRequest::Logs,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn content_type_parameters_and_case_are_ignored() {
        assert_eq!(
            protocol(Some("Application/JSON; charset=utf-8")),
            Ok(Protocol::HttpJson)
        );
        assert_eq!(protocol(Some(PROTOBUF)), Ok(Protocol::HttpProtobuf));
        assert_eq!(
            protocol(None),
            Err(DecodeError::UnsupportedContentType(String::new()))
        );
        assert_eq!(compression(Some("br")).unwrap_err().http_status(), 415);
    }

    #[test]
    fn an_empty_body_is_an_empty_request_in_either_encoding() {
        let d =
            decode_signal(SignalKind::Logs, Some(PROTOBUF), None, b"", 10).unwrap();
        assert_eq!(d.request, AnyRequest::Logs(Default::default()));
        let d =
            decode_signal(SignalKind::Metrics, Some(JSON), None, b"{}", 10).unwrap();
        assert_eq!(d.request, AnyRequest::Metrics(Default::default()));
    }

    #[test]
    fn a_gzip_bomb_is_refused_after_inflating_at_most_the_limit() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096, "{}", bomb.len());
        let err = decode_signal(
            SignalKind::Traces,
            Some(PROTOBUF),
            Some("gzip"),
            &bomb,
            4096,
        )
        .unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "the decompressed body",
                limit: 4096
            }
        );
        assert_eq!(err.http_status(), 413);
        assert_eq!(err.rpc_code(), 8);
    }

    #[test]
    fn a_body_above_the_limit_and_bad_bytes_are_refused_with_reasons() {
        let err =
            decode_signal(SignalKind::Traces, Some(PROTOBUF), None, &[0; 11], 10);
        assert_eq!(err.unwrap_err().http_status(), 413);
        let err = decode_signal(SignalKind::Traces, Some(JSON), None, b"{", 10)
            .unwrap_err();
        assert!(matches!(err, DecodeError::Json(_)), "{err}");
        let err = decode_signal(
            SignalKind::Traces,
            Some(PROTOBUF),
            Some("gzip"),
            b"xx",
            10,
        )
        .unwrap_err();
        assert!(matches!(err, DecodeError::Gzip(_)), "{err}");
        let err =
            decode_signal(SignalKind::Traces, Some(PROTOBUF), None, &[0xff], 10)
                .unwrap_err();
        assert!(matches!(err, DecodeError::Protobuf(_)), "{err}");
        assert_eq!(err.http_status(), 400);
    }
}
