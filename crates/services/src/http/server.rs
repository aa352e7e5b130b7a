//! The server side: trace and measure every request, refuse bad input with
//! a clear answer.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{KeyValue, global};
use otlp_csp_telemetry::propagation::{HeaderCarrier, context_with_span};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;

use super::obs::{Obs, attr};

/// The largest request body any service accepts; more is `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How long a client has to send a request's whole body once its head has
/// arrived; slower is `408 Request Timeout`. With the head deadline of
/// `serve`, it bounds how long a slow client can keep a request open.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(4);

/// A JSON error body: `{"error": "..."}`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, axum::Json(body)).into_response()
}

/// The answer to a request body that is not the JSON we expect: `400` with
/// the parser's message, except an oversized body (`413`) and a missing
/// `Content-Type: application/json` (`415`).
pub fn json_rejection(rejection: JsonRejection) -> Response {
    let status = match rejection.status() {
        s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => {
            s
        }
        _ => StatusCode::BAD_REQUEST,
    };
    error_response(status, rejection.body_text())
}

/// The fallback for unknown routes: `404` with a message.
pub async fn not_found(request: Request) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        format!("no route for {} {}", request.method(), request.uri().path()),
    )
}

// ANCHOR: middleware
// ANCHOR: middleware_name
/// Continues the caller's trace (or starts one) with a server span, records
/// `http.server.request.duration`, and logs the outcome inside the span.
async fn trace_request(
    State(obs): State<Obs>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let parent = global::get_text_map_propagator(|p| {
        p.extract(&HeaderCarrier(request.headers()))
    });
    let method = request.method().as_str().to_owned();
    // `None` for unknown routes: the span is then named after the method only,
    // as the semantic conventions ask (a raw path would explode cardinality).
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.clone(),
    };
    // ANCHOR_END: middleware_name
    // ANCHOR: middleware_span
    let mut attributes = vec![
        KeyValue::new(attr::METHOD, method.clone()),
        KeyValue::new(attr::URL_PATH, request.uri().path().to_owned()),
        KeyValue::new(attr::URL_SCHEME, "http"),
    ];
    if let Some(route) = &route {
        attributes.push(KeyValue::new(attr::ROUTE, route.clone()));
    }
    let span = obs
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
        .start_with_context(&obs.tracer, &parent);
    // Made from the extracted context, so the propagator still has what it
    // keeps there (chapter 10): not `Context::current_with_span`.
    let cx = context_with_span(&parent, span);

    obs.in_flight.fetch_add(1, Ordering::SeqCst);
    let response = next.run(request).with_context(cx.clone()).await;
    obs.in_flight.fetch_sub(1, Ordering::SeqCst);

    // ANCHOR_END: middleware_span
    // ANCHOR: middleware_outcome
    let status = response.status();
    let span = cx.span();
    span.set_attribute(KeyValue::new(attr::STATUS, i64::from(status.as_u16())));
    let mut labels = vec![
        KeyValue::new(attr::METHOD, method),
        KeyValue::new(attr::STATUS, i64::from(status.as_u16())),
    ];
    if let Some(route) = route {
        labels.push(KeyValue::new(attr::ROUTE, route));
    }
    // Server spans: 5xx is an error, 4xx is the client's fault (status unset).
    if status.is_server_error() {
        let code = status.as_u16().to_string();
        span.set_attribute(KeyValue::new(attr::ERROR_TYPE, code.clone()));
        span.set_status(Status::error(format!("answered {status}")));
        labels.push(KeyValue::new(attr::ERROR_TYPE, code));
    }
    obs.server_duration
        .record(start.elapsed().as_secs_f64(), &labels);
    // ANCHOR_END: middleware_outcome
    // ANCHOR: middleware_log
    {
        // A log record made here carries the span's trace and span ids.
        let _guard = cx.clone().attach();
        if status.is_server_error() {
            tracing::warn!(
                service = obs.service,
                status = status.as_u16(),
                "request failed"
            );
        } else {
            tracing::info!(
                service = obs.service,
                status = status.as_u16(),
                "request served"
            );
        }
    }
    span.end();
    response
}
// ANCHOR_END: middleware_log
// ANCHOR_END: middleware

// ANCHOR: body_declared
/// Reads the whole body (at most [`MAX_BODY_BYTES`]) within
/// [`BODY_READ_TIMEOUT`] before anything else sees the request: `408` when
/// it does not arrive in time, `413` when it runs over the limit. A body
/// whose `Content-Length` already says it is too large gets its `413` at
/// once, unread; so a body over the limit is `413` whatever else is wrong
/// with the request. Placed outside the concurrency limit, a slow body
/// never holds a request slot.
async fn read_body_within_deadline(request: Request, next: Next) -> Response {
    let declared_too_large = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64);
    if declared_too_large {
        return too_large();
    }
    // ANCHOR_END: body_declared
    // ANCHOR: body_read
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    match tokio::time::timeout(BODY_READ_TIMEOUT, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<LengthLimitError>());
            if over {
                too_large()
            } else {
                error_response(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {e}"),
                )
            }
        }
        Err(_) => error_response(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {BODY_READ_TIMEOUT:?}"),
        ),
    }
}
// ANCHOR_END: body_read

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body over {MAX_BODY_BYTES} bytes"),
    )
}

async fn overloaded(error: tower::BoxError) -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("overloaded, try again later: {error}"),
    )
}

// ANCHOR: layers
/// Adds what every service has: a 404 fallback, the body limit, inbound
/// load shedding above `max_concurrent` requests (`503`), a deadline for
/// the body, and tracing.
pub fn with_middleware(router: Router, obs: &Obs, max_concurrent: usize) -> Router {
    let router = router
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                // Global: one semaphore shared by every route of the service.
                .layer(GlobalConcurrencyLimitLayer::new(max_concurrent)),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(read_body_within_deadline));
    // Chapter 19's slow peer only: inside the span, so the span shows it.
    let router = match obs.delay {
        Some(delay) => delay.layer(router),
        None => router,
    };
    router.layer(middleware::from_fn_with_state(obs.clone(), trace_request))
}
// ANCHOR_END: layers
