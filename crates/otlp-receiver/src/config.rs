//! How a receiver listens and answers: the [`Config`] builder.

use std::net::SocketAddr;

use crate::{Fault, FaultPlan};

/// The default limit on a request body, compressed or not: 4 MiB, the
/// default message limit of gRPC servers.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

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
    pub(crate) grpc_addr: SocketAddr,
    pub(crate) http_addr: SocketAddr,
    pub(crate) max_body_bytes: usize,
    pub(crate) fail_first: u64,
    pub(crate) partial_success: Option<PartialSuccess>,
    pub(crate) keep_requests: bool,
    pub(crate) fault: Option<FaultPlan>,
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
            fault: None,
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

    /// Answers `hit` of every `every` well-formed export requests with
    /// `fault` instead of keeping them (see [`Fault`]); after the requests
    /// [`fail_first`](Config::fail_first) takes, if any.
    pub fn fault(mut self, fault: Fault, hit: u64, every: u64) -> Self {
        self.fault = Some(FaultPlan { fault, hit, every });
        self
    }

    /// Counts accepted requests and their items but does not keep them, so
    /// that a benchmark sending millions of spans runs in constant memory.
    /// [`Receiver::traces`](crate::Receiver::traces) and the other lists
    /// then stay empty.
    pub fn discard_requests(mut self) -> Self {
        self.keep_requests = false;
        self
    }

    /// Keeps every accepted request but answers it with a partial success.
    pub fn partial_success(
        mut self,
        rejected: i64,
        message: impl Into<String>,
    ) -> Self {
        self.partial_success = Some(PartialSuccess {
            rejected,
            message: message.into(),
        });
        self
    }
}
