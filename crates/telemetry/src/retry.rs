//! The span exporter's retries: the OTLP exporter specification's rules as
//! opentelemetry-otlp 0.33 applies them for its own exporters, so that the
//! book's span export waits as chapter 8 measures theirs do. Up to three
//! retries; the first waits 100 ms, each later one twice the last, never
//! more than 1.6 s, each plus up to 100 ms of jitter; a collector's
//! throttling hint (`Retry-After` in seconds, gRPC `RetryInfo`) lengthens
//! the wait; and no wait may run past the export's timeout.
//!
//! What may be retried: over HTTP a lost connection, `429`, `502`, `503` and
//! `504`; over gRPC `UNAVAILABLE`, `CANCELLED`, `DEADLINE_EXCEEDED`,
//! `ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS`, and `RESOURCE_EXHAUSTED` when
//! the collector says when to come back. Anything else fails at once.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tonic_types::StatusExt as _;

const MAX_RETRIES: u32 = 3;
const FIRST_WAIT: Duration = Duration::from_millis(100);
const LONGEST_WAIT: Duration = Duration::from_millis(1600);
const JITTER_MS: u32 = 100;
/// The longest throttling hint believed (opentelemetry-otlp's bound too).
const LONGEST_HINT: Duration = Duration::from_secs(600);

/// Why an attempt failed, and whether another may succeed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Retry {
    No,
    Yes,
    /// The collector asked to wait at least this long.
    After(Duration),
}

impl Failure {
    pub(crate) fn retryable(message: String) -> Self {
        Failure {
            message,
            retry: Retry::Yes,
        }
    }

    pub(crate) fn fatal(message: String) -> Self {
        Failure {
            message,
            retry: Retry::No,
        }
    }

    /// A non-2xx HTTP answer.
    pub(crate) fn from_http<B>(answer: &http::Response<B>) -> Self {
        let status = answer.status().as_u16();
        let hint = answer
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let retry = match (status, hint) {
            (429 | 503, Some(wait)) => Retry::After(wait),
            (429 | 502 | 503 | 504, _) => Retry::Yes,
            _ => Retry::No,
        };
        let message = format!("the collector answered HTTP {status}");
        Failure { message, retry }
    }

    /// A gRPC status other than OK.
    pub(crate) fn from_grpc(status: &tonic::Status) -> Self {
        use tonic::Code;
        let hint = status
            .get_details_retry_info()
            .and_then(|info| info.retry_delay)
            .filter(|d| !d.is_zero());
        let retry = match (status.code(), hint) {
            (Code::ResourceExhausted | Code::Unavailable, Some(wait)) => {
                Retry::After(wait)
            }
            (Code::ResourceExhausted, None) => Retry::No,
            (
                Code::Unavailable
                | Code::Cancelled
                | Code::DeadlineExceeded
                | Code::Aborted
                | Code::OutOfRange
                | Code::DataLoss,
                _,
            ) => Retry::Yes,
            _ => Retry::No,
        };
        let message = format!(
            "the collector answered gRPC {:?}: {}",
            status.code(),
            status.message()
        );
        Failure { message, retry }
    }
}

// ANCHOR: with_retries
/// Runs `attempt` until it succeeds, fails for good, runs out of retries,
/// or the next wait would end past `deadline` from now.
pub(crate) async fn with_retries<F, Fut>(
    deadline: Duration,
    mut attempt: F,
) -> Result<(), Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let start = Instant::now();
    let (mut wait, mut longest) = (FIRST_WAIT, LONGEST_WAIT);
    for retry in 0.. {
        let failure = match attempt().await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        match failure.retry {
            Retry::No => return Err(failure),
            _ if retry == MAX_RETRIES => return Err(failure),
            Retry::Yes => {}
            Retry::After(hint) => {
                // A hint may lengthen the waits, never shorten them.
                let hint = hint.min(LONGEST_HINT);
                longest = longest.max(hint);
                wait = wait.max(hint);
            }
        }
        let pause = (wait + jitter()).min(longest);
        if start.elapsed() + pause >= deadline {
            return Err(failure);
        }
        sleep(pause).await;
        wait = (wait * 2).min(longest);
    }
    unreachable!("the loop returns by its last retry")
}
// ANCHOR_END: with_retries

/// Up to `JITTER_MS`, from the clock: enough to keep exporters that failed
/// together from retrying together.
fn jitter() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(
        nanos.wrapping_mul(2_654_435_761) % (JITTER_MS + 1),
    ))
}

/// Waits without blocking a tokio worker, if on one; the batch
/// processor's export thread is not, and simply sleeps.
async fn sleep(pause: Duration) {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::time::sleep(pause).await,
        Err(_) => std::thread::sleep(pause),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Runs `with_retries` over attempts that fail with `failure` until the
    /// `succeed_at`-th; returns the attempts made and the time taken.
    fn run(
        failure: fn() -> Failure,
        succeed_at: u32,
        deadline: Duration,
    ) -> (u32, Duration, bool) {
        let attempts = AtomicU32::new(0);
        let start = Instant::now();
        let result = futures::executor::block_on(with_retries(deadline, || {
            let n = attempts.fetch_add(1, Ordering::Relaxed) + 1;
            async move {
                if n >= succeed_at {
                    Ok(())
                } else {
                    Err(failure())
                }
            }
        }));
        (attempts.into_inner(), start.elapsed(), result.is_ok())
    }

    #[test]
    fn three_retries_then_the_failure() {
        let (attempts, took, ok) = run(
            || Failure::retryable("x".into()),
            99,
            Duration::from_secs(10),
        );
        assert_eq!((attempts, ok), (4, false));
        // 100 + 200 + 400 ms, each plus at most 100 ms.
        assert!(took >= Duration::from_millis(700), "{took:?}");
    }

    #[test]
    fn a_fatal_failure_is_not_retried() {
        let (attempts, _, ok) =
            run(|| Failure::fatal("x".into()), 99, Duration::from_secs(10));
        assert_eq!((attempts, ok), (1, false));
    }

    #[test]
    fn a_retry_can_deliver() {
        let (attempts, _, ok) = run(
            || Failure::retryable("x".into()),
            2,
            Duration::from_secs(10),
        );
        assert_eq!((attempts, ok), (2, true));
    }

    #[test]
    fn no_wait_runs_past_the_deadline() {
        let (attempts, took, ok) = run(
            || Failure::retryable("x".into()),
            99,
            Duration::from_millis(50),
        );
        assert_eq!((attempts, ok), (1, false));
        assert!(took < Duration::from_millis(50), "{took:?}");
    }

    #[test]
    fn http_statuses_are_classified_as_the_specification_says() {
        let answer = |status: u16, after: Option<&str>| {
            let mut b = http::Response::builder().status(status);
            if let Some(a) = after {
                b = b.header("retry-after", a);
            }
            Failure::from_http(&b.body(()).unwrap()).retry
        };
        assert_eq!(answer(503, Some("3")), Retry::After(Duration::from_secs(3)));
        assert_eq!(answer(429, None), Retry::Yes);
        assert_eq!(answer(502, Some("3")), Retry::Yes);
        assert_eq!(answer(400, None), Retry::No);
        assert_eq!(answer(404, Some("3")), Retry::No);
    }

    #[test]
    fn grpc_codes_are_classified_as_the_specification_says() {
        let code = |c| Failure::from_grpc(&tonic::Status::new(c, "m")).retry;
        assert_eq!(code(tonic::Code::Unavailable), Retry::Yes);
        assert_eq!(code(tonic::Code::ResourceExhausted), Retry::No);
        assert_eq!(code(tonic::Code::InvalidArgument), Retry::No);
        assert_eq!(code(tonic::Code::DeadlineExceeded), Retry::Yes);
    }
}
