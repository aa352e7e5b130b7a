//! All four services in one process, on loopback ports: for tests and the
//! book's examples. The binaries run the same routers one per process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::net::TcpListener;

#[cfg(feature = "testing")]
use otlp_csp_telemetry::{Protocol, TelemetryConfig};
use otlp_csp_telemetry::{Telemetry, TelemetryError};

use crate::config::ClientConfig;
use crate::http::{Obs, Peer};
use crate::serve::RunningService;
use crate::{gateway, order, payment, user};

/// Inbound requests each service serves at once before shedding.
pub const MAX_CONCURRENT: usize = 256;

/// One [`Obs`] per service, each from its own telemetry set-up.
#[derive(Debug, Clone)]
pub struct SystemTelemetry {
    /// The gateway's.
    pub gateway: Obs,
    /// The order service's.
    pub order: Obs,
    /// The user service's.
    pub user: Obs,
    /// The payment service's.
    pub payment: Obs,
}

#[cfg(feature = "testing")]
// ANCHOR: telemetry
impl SystemTelemetry {
    /// One telemetry set-up per service, each exporting over OTLP/HTTP to
    /// the in-process `receiver` with its own `service.name`. Shut the
    /// returned set-ups down to flush what they hold.
    pub fn to_receiver(
        receiver: &otlp_receiver::Receiver,
    ) -> Result<(Self, Vec<Telemetry>), TelemetryError> {
        let base = receiver.http_endpoint();
        let mut set_ups = Vec::new();
        let mut obs =
            |service: &'static str| -> Result<Obs, TelemetryError> {
                let telemetry = otlp_csp_telemetry::init_with(
                    TelemetryConfig::otlp(service, Protocol::HttpProtobuf, &base),
                )?;
                let obs = Obs::new(service, &telemetry);
                set_ups.push(telemetry);
                Ok(obs)
            };
        let system = Self {
            gateway: obs("gateway")?,
            order: obs("order")?,
            user: obs("user")?,
            payment: obs("payment")?,
        };
        Ok((system, set_ups))
    }
}
// ANCHOR_END: telemetry

/// Shuts every set-up down (flushing spans, metrics and logs) and returns
/// the number of spans exported in all.
pub async fn shutdown_all(set_ups: Vec<Telemetry>) -> Result<u64, TelemetryError> {
    let mut exported = 0;
    for telemetry in set_ups {
        exported += telemetry.shutdown().await?.exported;
    }
    Ok(exported)
}

/// The running system.
#[derive(Debug)]
pub struct System {
    /// The gateway.
    pub gateway: RunningService,
    /// The order service.
    pub order: RunningService,
    /// The user service.
    pub user: RunningService,
    payment: Option<RunningService>,
    payment_addr: SocketAddr,
    charge_ids: Arc<AtomicU64>,
    obs: SystemTelemetry,
    /// The gateway's client for the order service.
    pub order_peer: Peer,
    /// The order service's client for the user service.
    pub user_peer: Peer,
    /// The order service's client for the payment service.
    pub payment_peer: Peer,
}

async fn loopback() -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", 0)).await
}

impl System {
    /// Starts user and payment, then order, then the gateway, each on an
    /// ephemeral port of 127.0.0.1; every peer client uses `client`.
    pub async fn start(
        obs: SystemTelemetry,
        client: ClientConfig,
    ) -> std::io::Result<Self> {
        let user = RunningService::spawn(
            "user",
            loopback().await?,
            user::router(&obs.user, MAX_CONCURRENT),
            &obs.user,
        );
        let charge_ids = Arc::new(AtomicU64::new(0));
        let payment = RunningService::spawn(
            "payment",
            loopback().await?,
            payment::router(&obs.payment, MAX_CONCURRENT, charge_ids.clone()),
            &obs.payment,
        );
        let user_peer = Peer::new("user", &user.url(), client, &obs.order);
        let payment_peer = Peer::new("payment", &payment.url(), client, &obs.order);
        let order = RunningService::spawn(
            "order",
            loopback().await?,
            order::router(
                &obs.order,
                MAX_CONCURRENT,
                user_peer.clone(),
                payment_peer.clone(),
            ),
            &obs.order,
        );
        let order_peer = Peer::new("order", &order.url(), client, &obs.gateway);
        let gateway = RunningService::spawn(
            "gateway",
            loopback().await?,
            gateway::router(&obs.gateway, MAX_CONCURRENT, order_peer.clone()),
            &obs.gateway,
        );
        Ok(Self {
            gateway,
            order,
            user,
            payment_addr: payment.addr(),
            payment: Some(payment),
            charge_ids,
            obs,
            order_peer,
            user_peer,
            payment_peer,
        })
    }

    /// `http://ADDR` of the gateway.
    pub fn gateway_url(&self) -> String {
        self.gateway.url()
    }

    /// Stops the payment service: its port refuses connections afterwards.
    pub async fn stop_payment(&mut self) {
        if let Some(payment) = self.payment.take() {
            payment.stop(Duration::ZERO).await;
        }
    }

    /// Starts the payment service again on the same port.
    pub async fn restart_payment(&mut self) -> std::io::Result<()> {
        if self.payment.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.payment_addr).await?;
        self.payment = Some(RunningService::spawn(
            "payment",
            listener,
            payment::router(
                &self.obs.payment,
                MAX_CONCURRENT,
                self.charge_ids.clone(),
            ),
            &self.obs.payment,
        ));
        Ok(())
    }

    /// Stops the services from the edge inwards, each with `deadline` to drain.
    pub async fn stop(mut self, deadline: Duration) {
        self.gateway.stop(deadline).await;
        self.order.stop(deadline).await;
        self.user.stop(deadline).await;
        if let Some(payment) = self.payment.take() {
            payment.stop(deadline).await;
        }
    }
}
