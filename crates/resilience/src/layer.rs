//! The breaker as [tower](https://docs.rs/tower) middleware.
//!
//! `poll_ready` asks the breaker first: when it refuses, the service reports
//! ready without polling the inner one, and `call` returns the refusal at
//! once (the way tower's load-shedding middleware works), so a caller never
//! waits on a service that is known to be down. When the breaker admits the
//! call, its permit is held from `poll_ready` to the end of the response
//! future; an inner error counts as a failure, a response as a success, and
//! a future dropped before it finishes releases the permit without a verdict.
//! To count some responses (say HTTP 5xx) as failures, turn them into errors
//! in a layer below this one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use crate::breaker::Rejected;
use crate::shared::{Breaker, Call, CallError, Clock, MonotonicClock};

/// Wraps services in a [`BreakerService`] sharing one [`Breaker`].
#[derive(Clone)]
pub struct BreakerLayer<C: Clock = MonotonicClock> {
    breaker: Breaker<C>,
}

impl<C: Clock> BreakerLayer<C> {
    /// A layer whose services all share `breaker` (and its state).
    pub fn new(breaker: Breaker<C>) -> Self {
        Self { breaker }
    }
}

impl<S, C: Clock> Layer<S> for BreakerLayer<C> {
    type Service = BreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService {
            inner,
            breaker: self.breaker.clone(),
            admitted: None,
        }
    }
}

/// A service behind a circuit breaker. Its error is [`CallError`]: the
/// breaker's refusal, or the inner service's error.
pub struct BreakerService<S, C: Clock = MonotonicClock> {
    inner: S,
    breaker: Breaker<C>,
    /// The outcome of the last `poll_ready`: a permit, or a refusal.
    admitted: Option<Result<Call<C>, Rejected>>,
}

impl<S: Clone, C: Clock> Clone for BreakerService<S, C> {
    fn clone(&self) -> Self {
        // A clone must poll_ready for itself: it gets no permit.
        Self {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            admitted: None,
        }
    }
}

/// The response future of a [`BreakerService`].
pub type BreakerFuture<T, E> =
    Pin<Box<dyn Future<Output = Result<T, CallError<E>>> + Send>>;

impl<S, C, Req> Service<Req> for BreakerService<S, C>
where
    S: Service<Req>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    C: Clock,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = BreakerFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.admitted.is_none() {
            self.admitted = Some(self.breaker.try_acquire());
        }
        match &self.admitted {
            Some(Ok(_)) => self.inner.poll_ready(cx).map_err(CallError::Failed),
            // Ready to refuse.
            _ => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // Without a poll_ready first (a breach of tower's contract), ask the
        // breaker now rather than panic.
        let admitted = self
            .admitted
            .take()
            .unwrap_or_else(|| self.breaker.try_acquire());
        match admitted {
            Ok(call) => {
                let response = self.inner.call(req);
                Box::pin(async move {
                    match response.await {
                        Ok(r) => {
                            call.success();
                            Ok(r)
                        }
                        Err(e) => {
                            call.failure();
                            Err(CallError::Failed(e))
                        }
                    }
                })
            }
            Err(rejected) => {
                Box::pin(std::future::ready(Err(CallError::Rejected(rejected))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::{BreakerConfig, StateKind};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    #[derive(Clone, Default)]
    struct Manual(Arc<AtomicU64>);

    impl Clock for Manual {
        fn now(&self) -> Duration {
            Duration::from_secs(self.0.load(Ordering::SeqCst))
        }
    }

    #[tokio::test]
    async fn the_layer_trips_refuses_without_calling_and_recovers() {
        let clock = Manual::default();
        let breaker = Breaker::with_clock(
            BreakerConfig::new(2, Duration::from_secs(5), 1).unwrap(),
            clock.clone(),
        );
        let calls = Arc::new(AtomicU64::new(0));
        let seen = calls.clone();
        let mut svc = ServiceBuilder::new()
            .layer(BreakerLayer::new(breaker.clone()))
            .service(service_fn(move |fail: bool| {
                seen.fetch_add(1, Ordering::SeqCst);
                async move { if fail { Err("down") } else { Ok("up") } }
            }));
        for _ in 0..2 {
            let r = svc.ready().await.unwrap().call(true).await;
            assert_eq!(r, Err(CallError::Failed("down")));
        }
        assert_eq!(breaker.state().kind(), StateKind::Open);
        let r = svc.ready().await.unwrap().call(false).await;
        assert_eq!(
            r,
            Err(CallError::Rejected(Rejected::Open {
                retry_after: Duration::from_secs(5)
            }))
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a refused call reached the service"
        );
        clock.0.store(5, Ordering::SeqCst);
        assert_eq!(svc.ready().await.unwrap().call(false).await, Ok("up"));
        assert_eq!(breaker.state().kind(), StateKind::Closed);
    }

    #[tokio::test]
    async fn a_dropped_response_future_frees_the_probe_slot() {
        let clock = Manual::default();
        let breaker = Breaker::with_clock(
            BreakerConfig::new(1, Duration::ZERO, 1).unwrap(),
            clock,
        );
        let mut svc = BreakerLayer::new(breaker.clone()).layer(service_fn(
            |fail: bool| async move { if fail { Err(()) } else { Ok(()) } },
        ));
        let _ = svc.ready().await.unwrap().call(true).await;
        let probe = svc.ready().await.unwrap().call(false);
        drop(probe);
        assert!(breaker.try_acquire().unwrap().is_probe());
    }
}
