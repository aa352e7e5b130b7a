//! A slow service on purpose, for chapter 19's slow-peer runs: every answer
//! waits `FAULT_DELAY_MS`, plus `FAULT_DELAY_RAMP_MS_PER_S` for every second
//! since the service started (a peer that slows gradually). Both unset: no
//! layer at all. The wait is inside the service's server span, so a trace
//! shows it, and a request whose caller gives up is still counted: its span
//! ends when the request is dropped.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::config::{ConfigError, Env};

/// The delay plan read from the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay {
    base: Duration,
    ramp_per_second: Duration,
    since: Instant,
}

impl Delay {
    /// `None` when neither variable is set.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Option<Delay>, ConfigError> {
        let base = env.millis("FAULT_DELAY_MS", Duration::ZERO)?;
        let ramp = env.millis("FAULT_DELAY_RAMP_MS_PER_S", Duration::ZERO)?;
        Ok((!base.is_zero() || !ramp.is_zero()).then(|| Delay {
            base,
            ramp_per_second: ramp,
            since: Instant::now(),
        }))
    }

    /// The wait for an answer given `elapsed` after the start.
    pub fn at(&self, elapsed: Duration) -> Duration {
        self.base + self.ramp_per_second.mul_f64(elapsed.as_secs_f64())
    }

    /// `router` with every answer delayed by this plan.
    pub fn layer(self, router: Router) -> Router {
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let wait = self.at(self.since.elapsed());
            async move {
                tokio::time::sleep(wait).await;
                let response: Response = next.run(request).await;
                response
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[test]
    fn reads_the_plan_and_ramps_it() {
        assert_eq!(Delay::from_env(&env(&[])).unwrap(), None);
        let d = Delay::from_env(&env(&[
            ("FAULT_DELAY_MS", "10"),
            ("FAULT_DELAY_RAMP_MS_PER_S", "4"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(d.at(Duration::ZERO), Duration::from_millis(10));
        assert_eq!(d.at(Duration::from_secs(5)), Duration::from_millis(30));
        assert!(Delay::from_env(&env(&[("FAULT_DELAY_MS", "soon")])).is_err());
    }
}
