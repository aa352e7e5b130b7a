//! Configuration from the environment. Every error names the variable.

use std::net::SocketAddr;
use std::time::Duration;

use otlp_csp_resilience::BreakerConfig;

/// A variable that is missing or cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not valid: expected {expected}")]
pub struct ConfigError {
    /// The environment variable at fault, e.g. `ORDER_URL`.
    pub variable: String,
    /// Its value as found (empty when it is not set).
    pub value: String,
    /// What was expected instead.
    pub expected: String,
}

/// Reads variables through a lookup function, so tests need not touch the
/// process environment.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// A socket address such as `0.0.0.0:8080`, or `default` when unset.
    pub fn addr(
        &self,
        name: &str,
        default: &str,
    ) -> Result<SocketAddr, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        value.trim().parse().map_err(|_| ConfigError {
            variable: name.to_owned(),
            value,
            expected: "a socket address such as 0.0.0.0:8080".into(),
        })
    }

    /// A required base URL such as `http://order:8081` (no trailing slash kept).
    pub fn url(&self, name: &str) -> Result<String, ConfigError> {
        let value = self.get(name).unwrap_or_default();
        let trimmed = value.trim().trim_end_matches('/');
        let host = trimmed.strip_prefix("http://").unwrap_or("");
        if host.is_empty() || host.contains('/') {
            return Err(ConfigError {
                variable: name.to_owned(),
                value,
                expected:
                    "a base URL such as http://127.0.0.1:8081 (plain HTTP, no path)"
                        .into(),
            });
        }
        Ok(trimmed.to_owned())
    }

    /// A whole number of milliseconds, or `default` when unset.
    pub fn millis(
        &self,
        name: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.trim()
                    .parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| ConfigError {
                        variable: name.to_owned(),
                        value: v,
                        expected: "a whole number of milliseconds".into(),
                    })
            }
        }
    }

    /// A positive whole number, or `default` when unset.
    pub fn count(&self, name: &str, default: u32) -> Result<u32, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError {
                    variable: name.to_owned(),
                    value: v,
                    expected: "a whole number of at least 1".into(),
                }),
            },
        }
    }
}

/// How a service calls one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// Deadline for one attempt (`PEER_TIMEOUT_MS`).
    pub timeout: Duration,
    /// Attempts for an idempotent call, the first included (`RETRY_ATTEMPTS`).
    /// A call that is not idempotent is attempted once.
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles per retry (`RETRY_BASE_MS`).
    pub backoff_base: Duration,
    /// The largest backoff ceiling (`RETRY_CAP_MS`).
    pub backoff_cap: Duration,
    /// Calls in flight to this peer before new ones are shed (`PEER_MAX_IN_FLIGHT`).
    pub max_in_flight: usize,
    /// Retries may add at most this share, in percent, to the calls made to
    /// the peer (`RETRY_BUDGET_PCT`; `none`: no budget).
    pub retry_budget_percent: Option<u32>,
    /// The circuit breaker (`BREAKER_FAILURES`, `BREAKER_COOLDOWN_MS`,
    /// `BREAKER_PROBES`, `BREAKER_JITTER_PCT`).
    pub breaker: BreakerConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            max_attempts: 3,
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(500),
            max_in_flight: 64,
            retry_budget_percent: Some(20),
            // Up to 20 % longer cool-downs: callers whose breakers opened
            // together probe apart (chapter 19, "Jitter the cool-down").
            breaker: BreakerConfig::new(5, Duration::from_secs(5), 1)
                .and_then(|b| b.with_jitter(20))
                .expect("5 failures, 1 probe and 20 % jitter is a valid breaker"),
        }
    }
}

impl ClientConfig {
    /// Reads the variables named on the fields; unset ones keep the default.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Self, ConfigError> {
        let d = Self::default();
        let failures =
            env.count("BREAKER_FAILURES", d.breaker.failure_threshold())?;
        let cool_down = env.millis("BREAKER_COOLDOWN_MS", d.breaker.cool_down())?;
        let probes = env.count("BREAKER_PROBES", d.breaker.max_probes())?;
        let retry_budget_percent = match env.get("RETRY_BUDGET_PCT") {
            None => d.retry_budget_percent,
            Some(text) if text.trim() == "none" => None,
            Some(text) => Some(
                text.trim().parse().ok().filter(|p| *p <= 1000).ok_or_else(
                    || ConfigError {
                        variable: "RETRY_BUDGET_PCT".into(),
                        value: text.clone(),
                        expected:
                            "a whole number of percent from 0 to 1000, or `none`"
                                .into(),
                    },
                )?,
            ),
        };
        let jitter = match env.get("BREAKER_JITTER_PCT") {
            None => d.breaker.jitter_percent(),
            Some(text) => {
                text.parse().ok().filter(|p| *p <= 100).ok_or_else(|| {
                    ConfigError {
                        variable: "BREAKER_JITTER_PCT".into(),
                        value: text.clone(),
                        expected: "a whole number of percent from 0 to 100".into(),
                    }
                })?
            }
        };
        Ok(Self {
            timeout: env.millis("PEER_TIMEOUT_MS", d.timeout)?,
            max_attempts: env.count("RETRY_ATTEMPTS", d.max_attempts)?,
            backoff_base: env.millis("RETRY_BASE_MS", d.backoff_base)?,
            backoff_cap: env.millis("RETRY_CAP_MS", d.backoff_cap)?,
            max_in_flight: env.count("PEER_MAX_IN_FLIGHT", d.max_in_flight as u32)?
                as usize,
            retry_budget_percent,
            // `count` has already refused zero for both numbers.
            breaker: BreakerConfig::new(failures, cool_down, probes)
                .and_then(|b| b.with_jitter(jitter))
                .map_err(|e| ConfigError {
                    variable: "BREAKER_FAILURES".into(),
                    value: failures.to_string(),
                    expected: e.to_string(),
                })?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An environment of `pairs`, for tests of anything read from one.
    pub(crate) fn env(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Env<impl Fn(&str) -> Option<String>> {
        Env(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn errors_name_the_variable() {
        let e = env(&[]).url("ORDER_URL").unwrap_err();
        assert_eq!(e.variable, "ORDER_URL");
        assert!(
            e.to_string().starts_with("ORDER_URL=\"\" is not valid"),
            "{e}"
        );
        let e = env(&[("LISTEN_ADDR", "localhost")])
            .addr("LISTEN_ADDR", "0.0.0.0:1")
            .unwrap_err();
        assert_eq!(e.variable, "LISTEN_ADDR");
        let e =
            ClientConfig::from_env(&env(&[("BREAKER_FAILURES", "0")])).unwrap_err();
        assert_eq!(e.variable, "BREAKER_FAILURES");
        let e = env(&[("USER_URL", "http://user:1/api")])
            .url("USER_URL")
            .unwrap_err();
        assert_eq!(e.value, "http://user:1/api");
    }

    #[test]
    fn reads_good_values() {
        let e = env(&[
            ("ORDER_URL", "http://order:8081/"),
            ("BREAKER_COOLDOWN_MS", "250"),
        ]);
        assert_eq!(e.url("ORDER_URL").unwrap(), "http://order:8081");
        let c = ClientConfig::from_env(&e).unwrap();
        assert_eq!(c.breaker.cool_down(), Duration::from_millis(250));
        assert_eq!(c.breaker.jitter_percent(), 20);
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.retry_budget_percent, Some(20));
        let unbudgeted =
            ClientConfig::from_env(&env(&[("RETRY_BUDGET_PCT", "none")]));
        assert_eq!(unbudgeted.unwrap().retry_budget_percent, None);
        let bad = ClientConfig::from_env(&env(&[("RETRY_BUDGET_PCT", "1001")]));
        assert_eq!(bad.unwrap_err().variable, "RETRY_BUDGET_PCT");
        let none = ClientConfig::from_env(&env(&[("BREAKER_JITTER_PCT", "0")]));
        assert_eq!(none.unwrap().breaker.jitter_percent(), 0);
        for bad in ["101", "-1", "ten"] {
            let pairs: &'static [(&str, &str)] =
                Box::leak(Box::new([("BREAKER_JITTER_PCT", bad)]));
            let e = ClientConfig::from_env(&env(pairs)).unwrap_err();
            assert_eq!(
                (e.variable.as_str(), e.value.as_str()),
                ("BREAKER_JITTER_PCT", bad)
            );
        }
        assert_eq!(
            e.addr("LISTEN_ADDR", "127.0.0.1:8080").unwrap().port(),
            8080
        );
    }
}
