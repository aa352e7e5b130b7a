//! What a receiver keeps of each accepted request, and what it counts.

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

/// Counters of everything a receiver answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Export requests accepted and kept.
    pub accepted_requests: u64,
    /// Requests refused as bad input (400, 404, 413, 415 and their gRPC codes).
    pub rejected_requests: u64,
    /// Well-formed requests answered with an injected fault
    /// ([`Config::fail_first`](crate::Config::fail_first),
    /// [`Config::fault`](crate::Config::fault)), none of them kept.
    pub injected_failures: u64,
    /// Accepted requests answered with the configured partial success.
    pub partial_successes: u64,
    /// Spans in the accepted requests.
    pub spans: u64,
    /// Metric data points in the accepted requests.
    pub metric_points: u64,
    /// Log records in the accepted requests.
    pub log_records: u64,
    /// Spans in the requests answered with an injected fault.
    pub faulted_spans: u64,
    /// Metric data points in the requests answered with an injected fault.
    pub faulted_metric_points: u64,
    /// Log records in the requests answered with an injected fault.
    pub faulted_log_records: u64,
}
