//! Chapters 18 and 19: what one order costs through the four services, and
//! what the answer costs when the payment service is down, with the breaker
//! open (503 without a call) and without a breaker that ever opens (502
//! after a refused connection).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use otlp_csp::resilience::BreakerConfig;
use otlp_csp::services::system::{System, SystemTelemetry};
use otlp_csp::services::{ClientConfig, Obs, Peer, PeerError};
use otlp_csp::telemetry::{Telemetry, TelemetryConfig, init_with};
use reqwest::Method;

/// The per-attempt timeout of the hanging-peer cases.
const TIMEOUT: Duration = Duration::from_millis(20);

const ORDER: &str = r#"{"user":"ada","amount_cents":1250}"#;

/// Spans are made and sampled but exported nowhere: the cost measured is
/// the services', not an exporter's.
fn silent() -> (SystemTelemetry, Vec<Telemetry>) {
    let mut keep = Vec::new();
    let mut obs = |name: &'static str| {
        let telemetry =
            init_with(TelemetryConfig::silent(name)).expect("silent set-up");
        let obs = Obs::new(name, &telemetry);
        keep.push(telemetry);
        obs
    };
    let system = SystemTelemetry {
        gateway: obs("gateway"),
        order: obs("order"),
        user: obs("user"),
        payment: obs("payment"),
    };
    (system, keep)
}

async fn place(client: &reqwest::Client, url: &str) -> u16 {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(ORDER)
        .send()
        .await
        .expect("the gateway answers")
        .status()
        .as_u16()
}

fn faults(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let mut group = c.benchmark_group("ch19_faults");

    // Payment up: the whole tree of chapter 18.
    let (obs, _keep) = silent();
    let mut system = rt
        .block_on(System::start(obs, ClientConfig::default()))
        .unwrap();
    let url = format!("{}/api/orders", system.gateway_url());
    group.bench_function("order_ok", |b| {
        b.iter(|| assert_eq!(rt.block_on(place(&client, black_box(&url))), 201))
    });

    // Payment down, breaker open for the rest of the run: 503 with no call.
    rt.block_on(system.stop_payment());
    let tripped = BreakerConfig::new(1, Duration::from_secs(3600), 1).unwrap();
    let (obs, _keep_open) = silent();
    let open = rt
        .block_on(System::start(
            obs,
            ClientConfig {
                breaker: tripped,
                ..ClientConfig::default()
            },
        ))
        .unwrap();
    let mut open = open;
    rt.block_on(open.stop_payment());
    let open_url = format!("{}/api/orders", open.gateway_url());
    assert_eq!(rt.block_on(place(&client, &open_url)), 502);
    group.bench_function("payment_down_breaker_open", |b| {
        b.iter(|| assert_eq!(rt.block_on(place(&client, black_box(&open_url))), 503))
    });

    // Payment down, a breaker that never opens: every call tries to connect.
    let never = BreakerConfig::new(u32::MAX, Duration::from_secs(1), 1).unwrap();
    let (obs, _keep_never) = silent();
    let mut closed = rt
        .block_on(System::start(
            obs,
            ClientConfig {
                breaker: never,
                ..ClientConfig::default()
            },
        ))
        .unwrap();
    rt.block_on(closed.stop_payment());
    let closed_url = format!("{}/api/orders", closed.gateway_url());
    group.bench_function("payment_down_no_breaker", |b| {
        b.iter(|| {
            assert_eq!(rt.block_on(place(&client, black_box(&closed_url))), 502)
        })
    });

    // One client, one call, against a peer that accepts and never answers:
    // without a breaker every call waits out its timeout; with the breaker
    // open it is refused before anything is sent.
    let hanging = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        format!("http://{addr}")
    });
    let (obs, _keep_peer) = silent();
    let waits = Peer::new(
        "hanging",
        &hanging,
        ClientConfig {
            timeout: TIMEOUT,
            breaker: never,
            ..ClientConfig::default()
        },
        &obs.order,
    );
    group.bench_function("peer_hanging_timeout", |b| {
        b.iter(|| {
            let outcome = rt.block_on(waits.call(Method::POST, "/charges", None));
            assert!(matches!(outcome, Err(PeerError::Timeout { .. })));
        })
    });
    let refuses = Peer::new(
        "hanging",
        &hanging,
        ClientConfig {
            timeout: TIMEOUT,
            breaker: tripped,
            ..ClientConfig::default()
        },
        &obs.order,
    );
    let _ = rt.block_on(refuses.call(Method::POST, "/charges", None));
    group.bench_function("peer_hanging_breaker_open", |b| {
        b.iter(|| {
            let outcome = rt.block_on(refuses.call(Method::POST, "/charges", None));
            assert!(matches!(outcome, Err(PeerError::CircuitOpen { .. })));
        })
    });
    group.finish();
    rt.block_on(async {
        system.stop(Duration::from_secs(1)).await;
        open.stop(Duration::from_secs(1)).await;
        closed.stop(Duration::from_secs(1)).await;
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .without_plots();
    targets = faults
}
criterion_main!(benches);
