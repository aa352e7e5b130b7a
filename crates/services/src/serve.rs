//! Running one service, and stopping it in phases.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::http::Obs;

/// A service accepting connections on a task.
#[derive(Debug)]
pub struct RunningService {
    name: &'static str,
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
    obs: Obs,
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// Requests still in flight when the drain deadline passed (0: all drained).
    pub abandoned: usize,
}

impl RunningService {
    /// Serves `app` on `listener` until [`RunningService::stop`].
    pub fn spawn(name: &'static str, listener: TcpListener, app: Router, obs: &Obs) -> Self {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
        });
        Self {
            name,
            addr,
            stop,
            task,
            obs: obs.clone(),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for peers.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    // ANCHOR: stop
    /// Phases 1 and 2 of a shutdown: stop accepting (the listener closes at
    /// once, idle keep-alive connections are closed), then wait up to
    /// `deadline` for in-flight requests to finish. Whatever is still running
    /// then is abandoned (its connections are dropped with the runtime).
    pub async fn stop(self, deadline: Duration) -> StopReport {
        self.stop.cancel();
        let mut task = self.task;
        match tokio::time::timeout(deadline, &mut task).await {
            Ok(_) => StopReport { abandoned: 0 },
            Err(_) => {
                let abandoned = self.obs.in_flight().max(1);
                task.abort();
                StopReport { abandoned }
            }
        }
    }
    // ANCHOR_END: stop
}

// ANCHOR: signal
/// Resolves on the first Ctrl-C (SIGINT) or SIGTERM, with the signal's name.
pub fn shutdown_signal() -> impl Future<Output = &'static str> {
    async {
        let ctrl_c = async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "SIGINT",
                // Cannot listen: never resolve, let SIGTERM decide.
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        let term = async {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                    "SIGTERM"
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<&'static str>();
        tokio::select! {
            name = ctrl_c => name,
            name = term => name,
        }
    }
}
// ANCHOR_END: signal
