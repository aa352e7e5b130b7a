//! Running one service, and stopping it in phases.

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
    /// Whether the server finished before the deadline.
    pub drained: bool,
    /// Requests still in flight when the deadline passed.
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
            Ok(_) => StopReport {
                drained: true,
                abandoned: 0,
            },
            Err(_) => {
                let abandoned = self.obs.in_flight();
                task.abort();
                StopReport {
                    drained: false,
                    abandoned,
                }
            }
        }
    }
    // ANCHOR_END: stop
}

// ANCHOR: signal
/// SIGTERM (what `docker stop` and Kubernetes send) and SIGINT (Ctrl-C),
/// listened for from the moment [`ShutdownSignal::listen`] returns: a signal
/// that arrives before anyone awaits [`ShutdownSignal::recv`] is not lost.
#[derive(Debug)]
pub struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Installs the handlers (inside a tokio runtime).
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves on the first signal, with its name.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
// ANCHOR_END: signal
