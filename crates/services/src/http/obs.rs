//! One service's telemetry handles: its tracer, its RED instruments.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use otlp_csp_telemetry::Telemetry;

/// Attribute names from the OpenTelemetry HTTP semantic conventions
/// (`http-spans.md`, `http-metrics.md`, stable since v1.23), plus the book's own.
pub mod attr {
    /// `http.request.method`: `GET`, `POST`, ...
    pub const METHOD: &str = "http.request.method";
    /// `http.route`: the matched route template, `/users/{id}`.
    pub const ROUTE: &str = "http.route";
    /// `http.response.status_code`.
    pub const STATUS: &str = "http.response.status_code";
    /// `url.path` (server spans).
    pub const URL_PATH: &str = "url.path";
    /// `url.scheme` (server spans).
    pub const URL_SCHEME: &str = "url.scheme";
    /// `url.full` (client spans).
    pub const URL_FULL: &str = "url.full";
    /// `server.address` (client spans: the peer's host).
    pub const SERVER_ADDRESS: &str = "server.address";
    /// `server.port` (client spans).
    pub const SERVER_PORT: &str = "server.port";
    /// `error.type`: a status code, or a short class such as `timeout`.
    pub const ERROR_TYPE: &str = "error.type";
    /// `http.request.resend_count`: set on the second and later attempts.
    pub const RESEND_COUNT: &str = "http.request.resend_count";
    /// `peer.service`: the logical name of the service called.
    pub const PEER_SERVICE: &str = "peer.service";
}

/// Bucket boundaries in seconds advised by the HTTP semantic conventions
/// for `http.server.request.duration` and `http.client.request.duration`.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The handles one service records through. Cheap to clone.
///
/// Built from *this service's* providers rather than the global ones, so
/// that several services in one process (the tests, the examples) each
/// stamp their spans with their own `service.name` resource.
#[derive(Clone, Debug)]
pub struct Obs {
    /// The service's name, as in its `service.name` resource.
    pub service: &'static str,
    pub(crate) tracer: SdkTracer,
    pub(crate) server_duration: Histogram<f64>,
    pub(crate) client_duration: Histogram<f64>,
    pub(crate) breaker_transitions: Counter<u64>,
    pub(crate) rejected: Counter<u64>,
    /// Requests being served now (read by the phased shutdown).
    pub(crate) in_flight: Arc<AtomicUsize>,
    /// A delay played on every request, inside its span (chapter 19's slow
    /// peer; `None` in normal service).
    pub(crate) delay: Option<crate::slow::Delay>,
}

impl Obs {
    /// These handles, and every request the service answers delayed by
    /// `delay` (see [`crate::slow`]).
    pub fn with_delay(self, delay: Option<crate::slow::Delay>) -> Self {
        Self { delay, ..self }
    }

    /// Handles from the providers of `telemetry` (one `init` per service).
    pub fn new(service: &'static str, telemetry: &Telemetry) -> Self {
        Self::from_providers(
            service,
            telemetry.provider(),
            telemetry.meter_provider(),
        )
    }

    /// Handles from explicit providers.
    pub fn from_providers(
        service: &'static str,
        tracer_provider: &SdkTracerProvider,
        meter_provider: &SdkMeterProvider,
    ) -> Self {
        let scope = "otlp-csp-services";
        let meter = meter_provider.meter(scope);
        Self {
            service,
            tracer: tracer_provider.tracer(scope),
            server_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            client_duration: meter
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description(
                    "Duration of HTTP client requests (one per attempt)",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            breaker_transitions: meter
                .u64_counter("otlp_csp.breaker.transitions")
                .with_description(
                    "Circuit breaker state changes, by peer, from and to",
                )
                .build(),
            rejected: meter
                .u64_counter("otlp_csp.client.rejected")
                .with_description(
                    "Outbound calls refused before sending, by peer and reason",
                )
                .build(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            delay: None,
        }
    }

    /// Requests being served right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }
}
