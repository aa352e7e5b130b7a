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
    pub fn spawn(
        name: &'static str,
        listener: TcpListener,
        app: Router,
        obs: &Obs,
    ) -> Self {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, app, stop.clone()));
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

// ANCHOR: accept_limits
/// A client that has not sent a request's whole head (request line and
/// headers) this long after starting it is disconnected: a "slowloris"
/// cannot hold a connection open by trickling one header byte at a time.
/// hyper runs this clock whenever it waits for a head, so it is also how
/// long an idle keep-alive connection stays open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(4);

/// The most bytes a request head may take before the server answers `431
/// Request Header Fields Too Large` (hyper's read buffer limit).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most header fields one request may carry; more is `431` too.
pub const MAX_HEADERS: usize = 64;
// ANCHOR_END: accept_limits

// ANCHOR: accept_builder
/// What `axum::serve` does, plus the limits it cannot be given: a deadline
/// for the request head and a bound on its size. Accepts until `stop` is
/// cancelled, then closes the listener, asks every open connection to
/// finish its current request and close, and waits for all of them.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    stop: CancellationToken,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);
    let graceful = GracefulShutdown::new();
    // ANCHOR_END: accept_builder
    // ANCHOR: accept_loop
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait, as axum does,
                // rather than spin or stop serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        // ANCHOR_END: accept_loop
        // ANCHOR: accept_connection
        let service = app.clone().map_request(
            |r: axum::http::Request<hyper::body::Incoming>| {
                r.map(axum::body::Body::new)
            },
        );
        let connection = builder
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            )
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that hangs up or breaks the protocol ends only its
            // own connection; hyper has already answered what it could.
            let _ = connection.await;
        });
    }
    // ANCHOR_END: accept_connection
    // ANCHOR: accept_stop
    // The listener closes before any connection is told to: a client whose
    // kept-alive connection the shutdown closes reconnects into a refused
    // connect, never into the queue of a listener about to close (whose
    // waiting connections the kernel would reset).
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
// ANCHOR_END: accept_stop

// ANCHOR: signal
// ANCHOR: signal_listen
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

    // ANCHOR_END: signal_listen
    // ANCHOR: signal_recv
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
// ANCHOR_END: signal_recv
// ANCHOR_END: signal
