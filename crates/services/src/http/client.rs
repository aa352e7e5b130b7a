//! The outbound side: one [`Peer`] per service called, with every call
//! traced, measured and protected.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue, global};
use otlp_csp_resilience::{Breaker, Rejected, RetryBudget, StateKind, Transition};
use otlp_csp_telemetry::propagation::HeaderCarrierMut;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder, ServiceExt as _};

use super::obs::{Obs, attr};
use super::server::error_response;
use crate::config::ClientConfig;

/// Why a call to a peer produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The breaker is open (or its probe quota is taken): not sent at all.
    #[error("{peer} unavailable: circuit breaker open")]
    CircuitOpen {
        /// The peer's name.
        peer: &'static str,
        /// When the breaker will admit a probe, if it said.
        retry_after: Option<Duration>,
    },
    /// Too many calls to this peer in flight: shed, not sent.
    #[error("{peer} overloaded: too many calls in flight")]
    Overloaded {
        /// The peer's name.
        peer: &'static str,
    },
    /// No answer within the deadline.
    #[error("{peer} did not answer in time")]
    Timeout {
        /// The peer's name.
        peer: &'static str,
    },
    /// Could not connect, or the connection broke.
    #[error("{peer} unreachable: {message}")]
    Unreachable {
        /// The peer's name.
        peer: &'static str,
        /// What the HTTP client said.
        message: String,
    },
    /// The peer's answer was longer than [`MAX_ANSWER_BYTES`]: not read on.
    #[error("{peer} answered with more than {MAX_ANSWER_BYTES} bytes")]
    AnswerTooLarge {
        /// The peer's name.
        peer: &'static str,
    },
    /// The peer answered with a server error.
    #[error("{peer} failed with {status}")]
    Upstream {
        /// The peer's name.
        peer: &'static str,
        /// Its answer.
        status: StatusCode,
    },
}

impl PeerError {
    /// Worth another attempt (if the call is idempotent): a timeout, a broken
    /// connection or a server error. Never a refusal by our own breaker or
    /// shedder: retrying those only adds load.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            PeerError::Timeout { .. }
                | PeerError::Unreachable { .. }
                | PeerError::Upstream { .. }
        )
    }

    /// The short class recorded as `error.type`.
    pub fn kind(&self) -> &'static str {
        match self {
            PeerError::CircuitOpen { .. } => "circuit_open",
            PeerError::Overloaded { .. } => "overloaded",
            PeerError::Timeout { .. } => "timeout",
            PeerError::Unreachable { .. } => "unreachable",
            PeerError::AnswerTooLarge { .. } => "answer_too_large",
            PeerError::Upstream { .. } => "upstream",
        }
    }

    /// The answer our own caller gets: `503` when we refused fast (breaker,
    /// shedding) or the peer said `503`, `504` on a timeout, `502` otherwise.
    pub fn into_response(self) -> Response {
        let status = match &self {
            PeerError::CircuitOpen { .. } | PeerError::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            PeerError::Upstream {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..
            } => StatusCode::SERVICE_UNAVAILABLE,
            PeerError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            PeerError::Unreachable { .. }
            | PeerError::AnswerTooLarge { .. }
            | PeerError::Upstream { .. } => StatusCode::BAD_GATEWAY,
        };
        let retry_after = match &self {
            PeerError::CircuitOpen {
                retry_after: Some(d),
                ..
            } => Some(d.as_secs().max(1)),
            _ => None,
        };
        let mut response = error_response(status, self.to_string());
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// What the breaker did, in the order it happened (for tests and the book).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerEvent {
    /// A state change reported by a verdict.
    Transition(Transition),
    /// A call admitted as a half-open probe (the breaker left `Open`).
    Probe,
}

/// The longest answer a peer may send. Every answer in this system is a
/// small JSON object; a peer that sends more is broken, and reading on would
/// let it grow our memory without bound.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Whether a method may be sent twice with the effect of once (RFC 9110,
/// section 9.2.2): only those calls are retried.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::PUT
            | Method::DELETE
            | Method::OPTIONS
            | Method::TRACE
    )
}

type Stack = BoxCloneSyncService<reqwest::Request, reqwest::Response, BoxError>;

/// Retries a peer's budget allows at once when it is full (it starts full),
/// on top of its share: enough for a short burst of failures.
const RETRY_BURST: u32 = 10;

/// A peer service and the protection around every call to it.
#[derive(Clone)]
pub struct Peer {
    name: &'static str,
    base: String,
    host: String,
    port: i64,
    config: ClientConfig,
    stack: Stack,
    breaker: Breaker,
    /// Shared by every call to this peer; `None`: retries are not budgeted.
    budget: Option<Arc<RetryBudget>>,
    events: Arc<Mutex<Vec<BreakerEvent>>>,
    obs: Obs,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("name", &self.name)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Peer {
    // ANCHOR: stack
    /// A client for the service `name` at `base` (`http://host:port`).
    pub fn new(
        name: &'static str,
        base: &str,
        config: ClientConfig,
        obs: &Obs,
    ) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            // Servers close a connection that sends no request head within
            // `HEADER_READ_TIMEOUT`, idle keep-alive ones included: drop
            // pooled connections well before, never reuse one being closed.
            .pool_idle_timeout(crate::serve::HEADER_READ_TIMEOUT / 2)
            .build()
            .expect("a plain-HTTP reqwest client always builds");
        // Outermost first: refuse at once when `max_in_flight` calls are out,
        // otherwise wait at most `timeout` for the answer's headers.
        let stack = ServiceBuilder::new()
            .load_shed()
            .concurrency_limit(config.max_in_flight)
            .timeout(config.timeout)
            .service(http)
            .map_err(BoxError::from);
        // ANCHOR_END: stack
        let authority = base.trim_start_matches("http://");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(80)),
            None => (authority.to_owned(), 80),
        };
        Self {
            name,
            base: base.trim_end_matches('/').to_owned(),
            host,
            port,
            config,
            stack: BoxCloneSyncService::new(stack),
            breaker: Breaker::new(config.breaker),
            budget: config
                .retry_budget_percent
                .map(|pct| Arc::new(RetryBudget::new(pct, RETRY_BURST))),
            events: Arc::default(),
            obs: obs.clone(),
        }
    }

    /// The peer's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The breaker's state now.
    pub fn breaker_state(&self) -> StateKind {
        self.breaker.state().kind()
    }

    /// Everything the breaker did so far.
    pub fn breaker_events(&self) -> Vec<BreakerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    // ANCHOR: call
    /// Calls `method path` with an optional JSON body, under the current
    /// context. Idempotent methods are retried with capped exponential
    /// backoff and full jitter; others are sent once.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), PeerError> {
        let parent = Context::current();
        let attempts = if is_idempotent(&method) {
            self.config.max_attempts
        } else {
            1
        };
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
        let mut attempt = 0;
        loop {
            match self
                .attempt(&parent, &method, path, body.clone(), attempt)
                .await
            {
                Err(e) if e.retryable() && attempt + 1 < attempts => {
                    if !self.budget.as_ref().is_none_or(|b| b.withdraw()) {
                        parent.span().add_event(
                            "retry not made: retry budget spent",
                            vec![KeyValue::new(attr::PEER_SERVICE, self.name)],
                        );
                        return Err(e);
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    // ANCHOR_END: call

    // ANCHOR: backoff
    /// "Full jitter": a uniform draw in `[0, min(cap, base * 2^attempt))`.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .config
            .backoff_base
            .saturating_mul(1 << attempt.min(16))
            .min(self.config.backoff_cap);
        ceiling.mul_f64(random_unit())
    }
    // ANCHOR_END: backoff

    // ANCHOR: attempt
    // ANCHOR: attempt_breaker
    async fn attempt(
        &self,
        parent: &Context,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
        resend: u32,
    ) -> Result<(StatusCode, Bytes), PeerError> {
        // 1. The breaker: refuse before any work when the peer is known down.
        let call = match self.breaker.try_acquire() {
            Ok(call) => call,
            Err(rejected) => {
                let retry_after = match rejected {
                    Rejected::Open { retry_after } => Some(retry_after),
                    Rejected::ProbesInFlight { .. } => None,
                };
                return Err(self.refused(
                    parent,
                    PeerError::CircuitOpen {
                        peer: self.name,
                        retry_after,
                    },
                ));
            }
        };
        if call.is_probe() {
            self.note(parent, BreakerEvent::Probe);
        }

        // ANCHOR_END: attempt_breaker
        // ANCHOR: attempt_span
        // 2. A client span per attempt, its context injected into the headers.
        let url = format!("{}{}", self.base, path);
        let mut attributes = vec![
            KeyValue::new(attr::METHOD, method.as_str().to_owned()),
            KeyValue::new(attr::URL_FULL, url.clone()),
            KeyValue::new(attr::SERVER_ADDRESS, self.host.clone()),
            KeyValue::new(attr::SERVER_PORT, self.port),
            KeyValue::new(attr::PEER_SERVICE, self.name),
        ];
        if resend > 0 {
            attributes.push(KeyValue::new(attr::RESEND_COUNT, i64::from(resend)));
        }
        let tracer = &self.obs.tracer;
        let span = tracer
            .span_builder(method.as_str().to_owned())
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(tracer, parent);
        let cx = parent.with_span(span);
        // ANCHOR_END: attempt_span
        // ANCHOR: attempt_inject
        let mut request = reqwest::Request::new(
            method.clone(),
            url.parse()
                .map_err(|e: url_error::Error| PeerError::Unreachable {
                    peer: self.name,
                    message: e.to_string(),
                })?,
        );
        global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut HeaderCarrierMut(request.headers_mut()))
        });
        if let Some(body) = body {
            request.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            *request.body_mut() = Some(body.into());
        }

        // ANCHOR_END: attempt_inject
        // ANCHOR: attempt_send
        // 3. Send through shedding, the concurrency limit and the timeout.
        let start = Instant::now();
        let outcome = match self.stack.clone().oneshot(request).await {
            Ok(response) => {
                let status = response.status();
                let read = self.read_answer_body(response);
                match tokio::time::timeout(self.config.timeout, read).await {
                    Ok(Ok(bytes)) => Ok((status, bytes)),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(PeerError::Timeout { peer: self.name }),
                }
            }
            Err(e) => Err(self.classify(e)),
        };

        // ANCHOR_END: attempt_send
        // ANCHOR: attempt_status
        // 4. The verdict. The breaker guards one hop: it counts transport
        //    failures, timeouts and a 500 (the peer itself broke). A 502, 503
        //    or 504 says a hop further down failed or refused: passed on, not
        //    held against this peer (else one dead leaf opens every breaker).
        let span = cx.span();
        let mut labels = vec![
            KeyValue::new(attr::METHOD, method.as_str().to_owned()),
            KeyValue::new(attr::SERVER_ADDRESS, self.host.clone()),
            KeyValue::new(attr::SERVER_PORT, self.port),
        ];
        let outcome = match outcome {
            Ok((status, bytes)) => {
                span.set_attribute(KeyValue::new(
                    attr::STATUS,
                    i64::from(status.as_u16()),
                ));
                labels.push(KeyValue::new(attr::STATUS, i64::from(status.as_u16())));
                let failed = status == StatusCode::INTERNAL_SERVER_ERROR;
                // Client spans: every 4xx and 5xx is an error.
                if status.is_client_error() || status.is_server_error() {
                    let code = status.as_u16().to_string();
                    span.set_attribute(KeyValue::new(
                        attr::ERROR_TYPE,
                        code.clone(),
                    ));
                    span.set_status(Status::error(format!("answered {status}")));
                    labels.push(KeyValue::new(attr::ERROR_TYPE, code));
                }
                // ANCHOR_END: attempt_status
                // ANCHOR: attempt_verdict
                if failed {
                    self.verdict(parent, call.failure());
                    Err(PeerError::Upstream {
                        peer: self.name,
                        status,
                    })
                } else {
                    self.verdict(parent, call.success());
                    Ok((status, bytes))
                }
            }
            // ANCHOR_END: attempt_verdict
            // ANCHOR: attempt_failed
            Err(e) => {
                span.set_attribute(KeyValue::new(attr::ERROR_TYPE, e.kind()));
                span.set_status(Status::error(e.to_string()));
                labels.push(KeyValue::new(attr::ERROR_TYPE, e.kind()));
                if matches!(e, PeerError::Overloaded { .. }) {
                    // Never sent: no verdict on the peer (dropping `call`
                    // releases its permit).
                    self.obs.rejected.add(
                        1,
                        &[
                            KeyValue::new(attr::PEER_SERVICE, self.name),
                            KeyValue::new("reason", "overloaded"),
                        ],
                    );
                    drop(call);
                } else {
                    self.verdict(parent, call.failure());
                }
                Err(e)
            }
        };
        self.obs
            .client_duration
            .record(start.elapsed().as_secs_f64(), &labels);
        span.end();
        outcome
    }
    // ANCHOR_END: attempt_failed
    // ANCHOR_END: attempt

    /// Reads an answer's body, refusing it once it passes
    /// [`MAX_ANSWER_BYTES`] (whether or not `Content-Length` said so first).
    async fn read_answer_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Bytes, PeerError> {
        let too_large = PeerError::AnswerTooLarge { peer: self.name };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.classify(e.into()))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    fn classify(&self, error: BoxError) -> PeerError {
        if error.is::<tower::load_shed::error::Overloaded>() {
            PeerError::Overloaded { peer: self.name }
        } else if error.is::<tower::timeout::error::Elapsed>() {
            PeerError::Timeout { peer: self.name }
        } else {
            match error.downcast::<reqwest::Error>() {
                Ok(e) if e.is_timeout() => PeerError::Timeout { peer: self.name },
                // The peer's URL is on the client span already; leave it out
                // of the message that travels back to callers.
                Ok(e) => PeerError::Unreachable {
                    peer: self.name,
                    message: describe(&(*e).without_url()),
                },
                Err(e) => PeerError::Unreachable {
                    peer: self.name,
                    message: describe(&*e),
                },
            }
        }
    }

    /// A call refused before it was sent: an event on the caller's span.
    fn refused(&self, parent: &Context, error: PeerError) -> PeerError {
        parent.span().add_event(
            "call refused",
            vec![
                KeyValue::new(attr::PEER_SERVICE, self.name),
                KeyValue::new(attr::ERROR_TYPE, error.kind()),
            ],
        );
        self.obs.rejected.add(
            1,
            &[
                KeyValue::new(attr::PEER_SERVICE, self.name),
                KeyValue::new("reason", error.kind()),
            ],
        );
        error
    }

    fn verdict(&self, parent: &Context, transition: Option<Transition>) {
        if let Some(t) = transition {
            self.note(parent, BreakerEvent::Transition(t));
        }
    }

    fn note(&self, parent: &Context, event: BreakerEvent) {
        let (from, to) = match event {
            BreakerEvent::Transition(t) => (kind_name(t.from), kind_name(t.to)),
            BreakerEvent::Probe => ("open", "half_open"),
        };
        let attributes = [
            KeyValue::new(attr::PEER_SERVICE, self.name),
            KeyValue::new("from", from),
            KeyValue::new("to", to),
        ];
        parent
            .span()
            .add_event("circuit breaker transition", attributes.to_vec());
        self.obs.breaker_transitions.add(1, &attributes);
        {
            let _guard = parent.clone().attach();
            tracing::warn!(peer = self.name, from, to, "circuit breaker transition");
        }
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

fn kind_name(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Closed => "closed",
        StateKind::Open => "open",
        StateKind::HalfOpen => "half_open",
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A uniform draw in `[0, 1)`. Jitter needs spread, not cryptographic
/// quality: std's randomly keyed hasher over a counter gives it without a
/// dependency.
fn random_unit() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

mod url_error {
    /// The error of parsing a URL for reqwest.
    pub type Error = <reqwest::Url as std::str::FromStr>::Err;
}

impl IntoResponse for PeerError {
    fn into_response(self) -> Response {
        PeerError::into_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idempotent_methods_are_retried() {
        assert!(is_idempotent(&Method::GET));
        assert!(is_idempotent(&Method::PUT));
        assert!(!is_idempotent(&Method::POST));
        assert!(!is_idempotent(&Method::PATCH));
    }

    #[test]
    fn jitter_stays_below_the_capped_ceiling() {
        let obs = Obs::from_providers(
            "test",
            &opentelemetry_sdk::trace::SdkTracerProvider::builder().build(),
            &opentelemetry_sdk::metrics::SdkMeterProvider::builder().build(),
        );
        let peer =
            Peer::new("p", "http://127.0.0.1:9", ClientConfig::default(), &obs);
        let mut distinct = std::collections::HashSet::new();
        for attempt in 0..10 {
            let ceiling = (ClientConfig::default().backoff_base * (1 << attempt))
                .min(ClientConfig::default().backoff_cap);
            for _ in 0..50 {
                let d = peer.backoff(attempt);
                assert!(d < ceiling, "attempt {attempt}: {d:?} >= {ceiling:?}");
                distinct.insert(d);
            }
        }
        // Jitter spreads the retries; identical delays would synchronise clients.
        assert!(
            distinct.len() > 100,
            "only {} distinct delays",
            distinct.len()
        );
    }

    #[test]
    fn refusals_are_not_retried_and_map_to_503() {
        let open = PeerError::CircuitOpen {
            peer: "payment",
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert!(!open.retryable());
        let response = open.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert!(!PeerError::Overloaded { peer: "p" }.retryable());
        assert!(PeerError::Timeout { peer: "p" }.retryable());
        assert_eq!(
            PeerError::Timeout { peer: "p" }.into_response().status(),
            StatusCode::GATEWAY_TIMEOUT
        );
    }
}
