//! A collector that misbehaves: the faults a receiver can be told to inject,
//! so that a run shows what an exporter does when its collector answers
//! badly, not only when it is down.
//!
//! A fault hits `hit` of every `every` well-formed export requests, counted
//! in arrival order over all three signals (request `n`, from 0, is hit when
//! `n % every < hit`). A hit request is never kept; its items are counted in
//! [`Stats`](crate::Stats) (`faulted_spans`, ...), so a run can account for
//! every item a client sent.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One way to answer an export request badly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `429 Too Many Requests` / gRPC `RESOURCE_EXHAUSTED`. With a delay,
    /// the answer carries it as `Retry-After: SECONDS` / a `RetryInfo`
    /// detail. The OTLP specification makes both retryable, except gRPC
    /// `RESOURCE_EXHAUSTED` without `RetryInfo`.
    Throttle(Option<Duration>),
    /// `503 Service Unavailable` / gRPC `UNAVAILABLE`, with the same
    /// optional delay. Retryable.
    Unavailable(Option<Duration>),
    /// Holds the request this long, then answers `503` / `UNAVAILABLE`: a
    /// collector stuck behind a full pipeline. Longer than the exporter's
    /// timeout, the exporter gives up first.
    Stall(Duration),
    /// Sends the response head, then cuts the body: the HTTP/1 connection
    /// is closed, the HTTP/2 stream reset.
    Reset,
    /// Answers `200 OK` with an HTML page, as a proxy in the way might.
    NotOtlp,
    /// Answers with a partial success that rejects every item of the
    /// request (`rejected_spans` = all of them): a valid OTLP answer that
    /// the specification says not to retry.
    Reject,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delay = |f: &mut fmt::Formatter<'_>, name, d: &Option<Duration>| match d
        {
            Some(d) => write!(f, "{name}:{}ms", d.as_millis()),
            None => write!(f, "{name}"),
        };
        match self {
            Fault::Throttle(d) => delay(f, "throttle", d),
            Fault::Unavailable(d) => delay(f, "unavailable", d),
            Fault::Stall(d) => write!(f, "stall:{}ms", d.as_millis()),
            Fault::Reset => write!(f, "reset"),
            Fault::NotOtlp => write!(f, "not-otlp"),
            Fault::Reject => write!(f, "reject"),
        }
    }
}

/// Why a fault could not be read from text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a fault; use throttle[:MS], unavailable[:MS], stall:MS, reset, \
     not-otlp or reject"
)]
pub struct ParseFaultError(String);

impl FromStr for Fault {
    type Err = ParseFaultError;

    /// `throttle`, `throttle:1000` (milliseconds of `Retry-After` /
    /// `RetryInfo`), `unavailable[:MS]`, `stall:MS`, `reset`, `not-otlp`.
    fn from_str(text: &str) -> Result<Fault, ParseFaultError> {
        let error = || ParseFaultError(text.to_owned());
        let (name, millis) = match text.split_once(':') {
            Some((name, ms)) => {
                let ms = ms.strip_suffix("ms").unwrap_or(ms);
                let ms: u64 = ms.parse().map_err(|_| error())?;
                (name, Some(Duration::from_millis(ms)))
            }
            None => (text, None),
        };
        match (name, millis) {
            ("throttle", d) => Ok(Fault::Throttle(d)),
            ("unavailable", d) => Ok(Fault::Unavailable(d)),
            ("stall", Some(d)) => Ok(Fault::Stall(d)),
            ("reset", None) => Ok(Fault::Reset),
            ("not-otlp", None) => Ok(Fault::NotOtlp),
            ("reject", None) => Ok(Fault::Reject),
            _ => Err(error()),
        }
    }
}

/// A fault and how often it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// What a hit request gets.
    pub fault: Fault,
    /// Requests hit in each run of `every`.
    pub hit: u64,
    /// Length of the cycle.
    pub every: u64,
}

impl FaultPlan {
    /// Whether request `n` (from 0, in arrival order) is hit.
    pub fn hits(&self, n: u64) -> bool {
        self.every > 0 && n % self.every < self.hit
    }
}

/// Seconds for a `Retry-After` header: whole seconds, rounded up, so that a
/// client never comes back before the delay asked for.
pub(crate) fn retry_after_seconds(delay: Duration) -> u64 {
    let whole = delay.as_secs();
    if delay.subsec_nanos() > 0 {
        whole + 1
    } else {
        whole
    }
}

/// What both servers answer to a fault, before each encodes it its own way.
pub(crate) enum Answer {
    /// An error status: throttled (`429` / `RESOURCE_EXHAUSTED`) or not
    /// (`503` / `UNAVAILABLE`), with the retry delay to send, if any.
    Refuse {
        throttled: bool,
        message: &'static str,
        retry_delay: Option<Duration>,
    },
    /// [`cut_response`].
    Cut,
    /// [`not_otlp_response`].
    Page,
    /// `200 OK` with a partial success rejecting every item.
    RejectAll,
}

impl Fault {
    /// The answer to this fault; a stall waits here first.
    pub(crate) async fn answer(self) -> Answer {
        let refuse = |throttled, message, retry_delay| Answer::Refuse {
            throttled,
            message,
            retry_delay,
        };
        match self {
            Fault::Throttle(delay) => {
                refuse(true, "throttled by the receiver's fault plan", delay)
            }
            Fault::Unavailable(delay) => refuse(
                false,
                "the receiver was told to fail this request (retry it)",
                delay,
            ),
            Fault::Stall(delay) => {
                tokio::time::sleep(delay).await;
                refuse(
                    false,
                    "the receiver stalled, then refused this request",
                    None,
                )
            }
            Fault::Reset => Answer::Cut,
            Fault::NotOtlp => Answer::Page,
            Fault::Reject => Answer::RejectAll,
        }
    }
}

/// A `200 OK` whose body fails after the head is sent: hyper then closes an
/// HTTP/1 connection, or resets an HTTP/2 stream, mid-response.
pub(crate) fn cut_response(content_type: &'static str) -> axum::response::Response {
    let cut = futures::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut by the receiver's fault plan",
        ))
    });
    let mut response =
        axum::response::Response::new(axum::body::Body::from_stream(cut));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    response
}

/// The page a [`Fault::NotOtlp`] answer carries.
const NOT_OTLP_PAGE: &str = "<!doctype html><title>Gateway</title>\
    <p>This is a proxy's page, not an OTLP response.</p>\n";

/// `200 OK` with an HTML page, over either transport.
pub(crate) fn not_otlp_response() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        NOT_OTLP_PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_fault() {
        for text in [
            "throttle",
            "throttle:1500ms",
            "unavailable",
            "unavailable:200ms",
            "stall:3000ms",
            "reset",
            "not-otlp",
            "reject",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(
            "stall:20".parse(),
            Ok(Fault::Stall(Duration::from_millis(20)))
        );
        for bad in ["", "stall", "reset:1", "throttle:x", "teapot"] {
            let error = bad.parse::<Fault>().unwrap_err().to_string();
            assert!(error.contains("is not a fault"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_plan_hits_the_first_of_every_cycle() {
        let plan = FaultPlan {
            fault: Fault::Reset,
            hit: 1,
            every: 3,
        };
        let hit: Vec<u64> = (0..7).filter(|n| plan.hits(*n)).collect();
        assert_eq!(hit, [0, 3, 6]);
        let never = FaultPlan { every: 0, ..plan };
        assert!(!(0..5).any(|n| never.hits(n)));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::ZERO), 0);
    }
}
