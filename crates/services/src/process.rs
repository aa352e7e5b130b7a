//! The `main` of the four binaries: configuration from the environment, a
//! runtime sized from the cgroup, telemetry from `OTEL_*`, phased shutdown.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::{ClientConfig, Env};
use crate::http::{Obs, Peer};
use crate::serve::{RunningService, ShutdownSignal};
use crate::{gateway, order, payment, runtime, user};

/// Which of the four services a binary runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `gateway`: needs `ORDER_URL`.
    Gateway,
    /// `order`: needs `USER_URL` and `PAYMENT_URL`.
    Order,
    /// `user`.
    User,
    /// `payment`.
    Payment,
}

impl Service {
    /// The service's name (its default `service.name`).
    pub fn name(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Order => "order",
            Service::User => "user",
            Service::Payment => "payment",
        }
    }

    /// Where it listens unless `LISTEN_ADDR` says otherwise.
    pub fn default_addr(self) -> &'static str {
        match self {
            Service::Gateway => "127.0.0.1:8080",
            Service::Order => "127.0.0.1:8081",
            Service::User => "127.0.0.1:8082",
            Service::Payment => "127.0.0.1:8083",
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `service` until SIGTERM or Ctrl-C; exit 0 after a clean shutdown.
pub fn main(service: Service) -> ExitCode {
    #[cfg(feature = "profile")]
    let profile = match crate::profiling::Profile::from_env(service.name()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: OTLP_CSP_PROFILE: {e}", service.name());
            return ExitCode::FAILURE;
        }
    };
    #[cfg(feature = "allocators")]
    eprintln!("{}: allocator {}", service.name(), crate::allocator::name());
    let code = match run(service) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e}", service.name());
            ExitCode::FAILURE
        }
    };
    #[cfg(feature = "profile")]
    if let Some(profile) = profile {
        match profile.write() {
            Ok(n) => eprintln!("{}: profile written ({n} samples)", service.name()),
            Err(e) => {
                eprintln!("{}: profile not written: {e}", service.name());
                return ExitCode::FAILURE;
            }
        }
    }
    code
}

// ANCHOR: run
// ANCHOR: run_env
fn run(service: Service) -> Result<ExitCode, BoxError> {
    let name = service.name();
    // Everything from the environment first: a bad variable fails before
    // anything starts, and the message names it.
    let env = Env::process();
    let listen = env.addr("LISTEN_ADDR", service.default_addr())?;
    let deadline = env.millis("SHUTDOWN_DEADLINE_MS", Duration::from_secs(10))?;
    let max_concurrent = env.count("MAX_CONCURRENT_REQUESTS", 256)? as usize;
    let client = ClientConfig::from_env(&env)?;
    let slow = crate::slow::Delay::from_env(&env)?;
    let (order_url, user_url, payment_url) = match service {
        Service::Gateway => (Some(env.url("ORDER_URL")?), None, None),
        Service::Order => (
            None,
            Some(env.url("USER_URL")?),
            Some(env.url("PAYMENT_URL")?),
        ),
        Service::User | Service::Payment => (None, None, None),
    };
    // ANCHOR_END: run_env

    // ANCHOR: run_start
    let sizing = runtime::detect()?;
    let rt = runtime::build(&sizing)?;
    rt.block_on(async move {
        let mut signals = ShutdownSignal::listen()?;
        let telemetry = otlp_csp_telemetry::init(name)?;
        let obs = Obs::new(name, &telemetry).with_delay(slow);
        // ANCHOR_END: run_start
        let app = match service {
            Service::Gateway => {
                let order = Peer::new(
                    "order",
                    order_url.as_deref().unwrap_or_default(),
                    client,
                    &obs,
                );
                gateway::router(&obs, max_concurrent, order)
            }
            Service::Order => {
                let user = Peer::new(
                    "user",
                    user_url.as_deref().unwrap_or_default(),
                    client,
                    &obs,
                );
                let payment = Peer::new(
                    "payment",
                    payment_url.as_deref().unwrap_or_default(),
                    client,
                    &obs,
                );
                order::router(&obs, max_concurrent, user, payment)
            }
            Service::User => user::router(&obs, max_concurrent),
            Service::Payment => {
                payment::router(&obs, max_concurrent, Arc::default())
            }
        };
        // ANCHOR: run_listen
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("LISTEN_ADDR={listen}: cannot listen: {e}"))?;
        let running = RunningService::spawn(name, listener, app, &obs);
        eprintln!(
            "{name}: listening on {} with {} worker threads ({})",
            running.addr(),
            sizing.workers,
            sizing.reason
        );
        // ANCHOR_END: run_listen

        // ANCHOR: run_stop
        let signal = signals.recv().await;
        eprintln!(
            "{name}: {signal}: stop accepting, drain in-flight requests \
             (deadline {deadline:?})"
        );
        let report = running.stop(deadline).await;
        if !report.drained {
            eprintln!(
                "{name}: deadline passed with {} request(s) in flight: abandoned",
                report.abandoned
            );
        } else {
            eprintln!("{name}: drained");
        }
        eprintln!("{name}: flushing telemetry");
        // Read after a failed shutdown too: every span is then still counted.
        let spans = telemetry.span_counters();
        let logs = telemetry.log_counters();
        let shutdown = telemetry.shutdown().await;
        eprintln!("{name}: log records {}", counts(&logs.snapshot()));
        match shutdown {
            Ok(stats) => {
                eprintln!("{name}: {} span(s) exported; exit 0", stats.exported);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                eprintln!("{name}: spans {}; exit 1", counts(&spans.snapshot()));
                Ok(ExitCode::FAILURE)
            }
        }
    })
}
// ANCHOR_END: run_stop
// ANCHOR_END: run

/// `ended E exported X failed F dropped D`: how a service's last words give
/// the counts of spans or log records.
fn counts(s: &otlp_csp_telemetry::SpanStats) -> String {
    format!(
        "ended {} exported {} failed {} dropped {} rejected {}",
        s.ended, s.exported, s.failed, s.dropped, s.rejected
    )
}
