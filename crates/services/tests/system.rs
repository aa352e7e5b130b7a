//! The system end to end, in one process: four services on loopback ports,
//! each with its own telemetry set-up, all exporting to one in-process OTLP
//! receiver.

use std::time::Duration;

use otlp_csp_resilience::{BreakerConfig, StateKind, Transition};
use otlp_csp_services::system::{System, SystemTelemetry, shutdown_all};
use otlp_csp_services::tree::{self, TreeSpan};
use otlp_csp_services::{BreakerEvent, ClientConfig};
use otlp_receiver::Receiver;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

struct Reply {
    status: u16,
    body: String,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    traceparent: Option<&str>,
) -> Reply {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(tp) = traceparent {
        request = request.header("traceparent", tp);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let body = response.text().await.expect("a body");
    Reply { status, body }
}

fn order(user: &str, cents: u64) -> String {
    format!(r#"{{"user":"{user}","amount_cents":{cents}}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_is_one_trace_across_four_services() {
    let receiver = Receiver::start().await.unwrap();
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver).unwrap();
    let system = System::start(obs, ClientConfig::default()).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/api/orders", system.gateway_url());

    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    let reply = post(&client, &url, &order("ada", 1250), Some(&traceparent)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body, r#"{"order_id":"ord-1","charge_id":"ch-1"}"#);

    system.stop(Duration::from_secs(5)).await;
    shutdown_all(set_ups).await.unwrap();

    let spans = tree::of_trace(&tree::received_spans(&receiver), &bytes(TRACE_ID));
    assert_eq!(spans.len(), 7, "{spans:#?}");
    // The root continues the caller's span: its parent is the one we sent.
    let root: Vec<&TreeSpan> = spans
        .iter()
        .filter(|s| s.parent_span_id == bytes(CALLER_SPAN))
        .collect();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0].service, "gateway");
    assert_eq!(
        tree::render(&spans),
        "\
POST /api/orders  [gateway, server]  201
└─ POST  [gateway, client]  201
   └─ POST /orders  [order, server]  201
      ├─ GET  [order, client]  200
      │  └─ GET /users/{id}  [user, server]  200
      └─ POST  [order, client]  201
         └─ POST /charges  [payment, server]  201
"
    );
    assert!(spans.iter().all(|s| !s.error));
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_answer() {
    let receiver = Receiver::start().await.unwrap();
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver).unwrap();
    let system = System::start(obs, ClientConfig::default()).await.unwrap();
    let client = reqwest::Client::new();
    let base = system.gateway_url();
    let url = format!("{base}/api/orders");

    let r = post(&client, &url, r#"{"user": "ada", "amount_cents": }"#, None).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("Failed to parse the request body as JSON"),
        "{}",
        r.body
    );

    let r = post(&client, &url, r#"{"user": "ada"}"#, None).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("missing field `amount_cents`"),
        "{}",
        r.body
    );

    let r = post(&client, &url, &order("Robert'); DROP", 1), None).await;
    assert_eq!(r.status, 400);

    let big = order(&"a".repeat(20_000), 1);
    assert_eq!(post(&client, &url, &big, None).await.status, 413);

    let r = client
        .post(&url)
        .body(order("ada", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);

    let r = post(&client, &format!("{base}/no/such/route"), "{}", None).await;
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("no route for POST /no/such/route"),
        "{}",
        r.body
    );

    assert_eq!(
        post(&client, &url, &order("nobody", 1), None).await.status,
        422
    );
    assert_eq!(
        post(&client, &url, &order("mallory", 1), None).await.status,
        403
    );
    assert_eq!(
        post(&client, &url, &order("ada", 10_000_000), None)
            .await
            .status,
        402
    );

    // A malformed traceparent starts a new trace instead of failing the request.
    let bad = "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01";
    let r = post(&client, &url, &order("grace", 5), Some(bad)).await;
    assert_eq!(r.status, 201, "{}", r.body);

    system.stop(Duration::from_secs(5)).await;
    shutdown_all(set_ups).await.unwrap();
    let spans = tree::received_spans(&receiver);
    let roots: Vec<&TreeSpan> = spans
        .iter()
        .filter(|s| s.service == "gateway" && s.kind == "server")
        .collect();
    // Every request is a trace of its own, rooted at the gateway.
    assert_eq!(roots.len(), 10);
    assert!(roots.iter().all(|s| s.parent_span_id.is_empty()));
    let unknown = roots.iter().find(|s| s.status_code == Some(404)).unwrap();
    assert_eq!(
        unknown.name, "POST",
        "an unknown route names the span by method only"
    );
    // 4xx is the client's fault: not an error on the server span.
    assert!(roots.iter().all(|s| !s.error));
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_payment_service_opens_the_breaker_and_recovery_closes_it() {
    let receiver = Receiver::start().await.unwrap();
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver).unwrap();
    // The cool-down must outlast the three 503 calls below even on a busy
    // machine (at 200 ms a slow run saw the breaker half-open too early),
    // and stay short enough for the recovery loop.
    let config = ClientConfig {
        breaker: BreakerConfig::new(3, Duration::from_millis(1000), 1).unwrap(),
        ..ClientConfig::default()
    };
    let mut system = System::start(obs, config).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/api/orders", system.gateway_url());

    assert_eq!(
        post(&client, &url, &order("ada", 100), None).await.status,
        201
    );
    system.stop_payment().await;

    // Three calls fail on the dead port (502), then the breaker answers (503).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(post(&client, &url, &order("ada", 100), None).await.status);
    }
    assert_eq!(statuses, [502, 502, 502, 503, 503, 503]);
    assert_eq!(system.payment_peer.breaker_state(), StateKind::Open);
    // The gateway's own breaker to the order service stays closed: a 502 or
    // 503 from a deeper hop is not held against the order service.
    assert_eq!(system.order_peer.breaker_state(), StateKind::Closed);

    system.restart_payment().await.unwrap();
    // Until the cool-down passes the breaker keeps answering 503; then one
    // probe goes through and closes it.
    let mut recovered = false;
    for _ in 0..200 {
        let r = post(&client, &url, &order("ada", 100), None).await;
        if r.status == 201 {
            recovered = true;
            break;
        }
        assert_eq!(r.status, 503, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recovered, "the breaker never closed again");
    assert_eq!(
        system.payment_peer.breaker_events(),
        [
            BreakerEvent::Transition(Transition {
                from: StateKind::Closed,
                to: StateKind::Open
            }),
            BreakerEvent::Probe,
            BreakerEvent::Transition(Transition {
                from: StateKind::HalfOpen,
                to: StateKind::Closed
            }),
        ]
    );

    system.stop(Duration::from_secs(5)).await;
    shutdown_all(set_ups).await.unwrap();
    let spans = tree::received_spans(&receiver);
    // The three failed calls are error spans on the order service's client.
    let failed: Vec<&TreeSpan> = spans
        .iter()
        .filter(|s| s.service == "order" && s.kind == "client" && s.error)
        .collect();
    assert_eq!(failed.len(), 3, "{failed:#?}");
    assert!(
        failed
            .iter()
            .all(|s| s.error_type.as_deref() == Some("unreachable"))
    );
    // A refused call sends nothing: no client span, an event on the server span.
    let refused: Vec<&TreeSpan> = spans
        .iter()
        .filter(|s| s.events.iter().any(|e| e == "call refused"))
        .collect();
    assert!(refused.len() >= 3);
    for server in &refused {
        assert_eq!(server.service, "order");
        assert_eq!(server.status_code, Some(503));
        assert!(server.error);
        assert!(
            !spans
                .iter()
                .any(|s| s.parent_span_id == server.span_id && s.name == "POST"),
            "a refused call still produced a client span"
        );
    }
    // And the gateway's server spans for those requests say 503, as errors.
    let gateway_503 = spans
        .iter()
        .filter(|s| {
            s.service == "gateway"
                && s.kind == "server"
                && s.status_code == Some(503)
        })
        .count();
    assert_eq!(gateway_503, refused.len());
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_payment_under_load_trips_the_breaker_within_its_threshold() {
    const THRESHOLD: u32 = 5;
    const WORKERS: usize = 8;
    let receiver = Receiver::start().await.unwrap();
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver).unwrap();
    let config = ClientConfig {
        breaker: BreakerConfig::new(THRESHOLD, Duration::from_millis(500), 1)
            .unwrap(),
        ..ClientConfig::default()
    };
    let mut system = System::start(obs, config).await.unwrap();
    let url = format!("{}/api/orders", system.gateway_url());

    // Closed-loop load: each worker has one request out at a time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (stop, tx, url) = (stop.clone(), tx.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let status =
                    post(&client, &url, &order("ada", 100), None).await.status;
                if tx.send(status).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut before = Vec::new();
    while before.len() < 40 {
        before.push(rx.recv().await.unwrap());
    }
    system.stop_payment().await;
    let mut after = Vec::new();
    while after.len() < 80 {
        after.push(rx.recv().await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    assert!(before.iter().all(|s| *s == 201), "{before:?}");
    // Every answer is an order, a 502 (payment unreachable) or a 503 (the
    // breaker): never a 500, never a hang.
    assert!(
        after.iter().all(|s| [201, 502, 503].contains(s)),
        "{after:?}"
    );
    assert!(
        after.contains(&503),
        "the breaker never answered: {after:?}"
    );
    let events = system.payment_peer.breaker_events();
    assert_eq!(
        events.first(),
        Some(&BreakerEvent::Transition(Transition {
            from: StateKind::Closed,
            to: StateKind::Open
        }))
    );

    system.restart_payment().await.unwrap();
    let client = reqwest::Client::new();
    let mut recovered = false;
    for _ in 0..200 {
        if post(&client, &url, &order("ada", 100), None).await.status == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recovered, "never recovered");
    assert_eq!(system.payment_peer.breaker_state(), StateKind::Closed);

    system.stop(Duration::from_secs(5)).await;
    shutdown_all(set_ups).await.unwrap();
    // Failed calls reached the dead payment service only while the breaker
    // was closed (at most THRESHOLD counted, plus the calls already in flight
    // when it tripped, at most one per other worker) or as probes.
    let probes = events.iter().filter(|e| **e == BreakerEvent::Probe).count();
    let failed = tree::received_spans(&receiver)
        .into_iter()
        .filter(|s| {
            s.service == "order" && s.kind == "client" && s.name == "POST" && s.error
        })
        .count();
    assert!(failed >= THRESHOLD as usize, "{failed}");
    assert!(
        failed <= THRESHOLD as usize + (WORKERS - 1) + probes,
        "{failed} failed calls for threshold {THRESHOLD}, {WORKERS} workers, {probes} probes"
    );
    receiver.shutdown().await;
}
