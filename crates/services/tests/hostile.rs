//! Hostile traffic against the services, all on 127.0.0.1: slow and huge
//! request heads, oversized and deeply nested JSON, invalid UTF-8, and a
//! flood of new connections. Every case must end in a definite answer
//! (the exact status code below) or, for a head that never completes, in the
//! server closing the connection; nothing may panic; every request that
//! reached a service must have its server span at the receiver; and the
//! process's memory must stay bounded. The figures go to the book through
//! `book_results` (group `hostile`).
//!
//! Requests are written by hand over raw TCP so that the test controls every
//! byte, including the ones a well-behaved client library refuses to send.
//! Each carries `Connection: close`, so an answer is complete when the server
//! closes the connection, and a `traceparent` with a trace id of its own, so
//! its spans can be found again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use book_results::{Measurement, record};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp_services::serve::{HEADER_READ_TIMEOUT, MAX_HEADER_BYTES, MAX_HEADERS};
use otlp_csp_services::system::shutdown_all;
use otlp_csp_services::tree::{self, TreeSpan};
use otlp_csp_services::{
    ClientConfig, Obs, Peer, RunningService, System, SystemTelemetry, gateway,
    payment,
};
use otlp_csp_telemetry::{Protocol, TelemetryConfig};
use otlp_receiver::Receiver;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// How long the test waits for any one answer before calling it a failure
/// (a bound on the test, not a speed goal: the cases answer at once, or
/// after `HEADER_READ_TIMEOUT` for the slow head).
const PATIENCE: Duration = Duration::from_secs(30);

/// A request body that parses: the gateway forwards it.
const GOOD_ORDER: &[u8] = br#"{"user":"ada","amount_cents":1250}"#;

/// Requests held in flight while the flood arrives, and the flood's size.
const FLOOD_LIMIT: usize = 4;
const FLOOD: usize = 64;

/// The memory the whole test may add to the process (services, clients and
/// the receiver's copies of the spans together).
const RSS_GROWTH_LIMIT_KIB: u64 = 64 * 1024;

/// A trace id of its own for request `n`, and its `traceparent`.
fn trace_id(n: u32) -> String {
    format!("{:032x}", 0x7e57_0000_u64 + u64::from(n))
}

fn traceparent(n: u32) -> Vec<u8> {
    format!("00-{}-00f067aa0ba902b7-01", trace_id(n)).into_bytes()
}

/// An HTTP/1.1 request, byte for byte.
fn request(
    method: &str,
    path: &[u8],
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !body.is_empty() {
        out.extend_from_slice(b"Content-Type: application/json\r\n");
        out.extend_from_slice(
            format!("Content-Length: {}\r\n", body.len()).as_bytes(),
        );
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Sends `bytes` and reads until the server closes the connection. Writing
/// runs beside reading: a server that answers `431` before it has read the
/// whole head must not have its answer lost behind our blocked write.
async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        // The server may close before taking everything; that is its right.
        let _ = writer.write_all(&bytes).await;
        writer
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                // A reset after the answer arrived still leaves the answer.
                Err(e) if answer.is_empty() => return Err(format!("read: {e}")),
                Err(_) => return Ok(()),
            }
        }
    })
    .await;
    write.abort();
    match read {
        Ok(Ok(())) => Ok(answer),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no end of answer within {PATIENCE:?}")),
    }
}

/// The status code of a raw answer, `None` when there is no status line.
fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    let mut words = text.split_whitespace();
    match words.next() {
        Some(v) if v.starts_with("HTTP/1.") => words.next()?.parse().ok(),
        _ => None,
    }
}

fn body_of(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// What a case expects to happen to its request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The service answers this status and records a server span for it.
    App(u16),
    /// hyper refuses the head with this status before any service code runs:
    /// no span, because no request reached a service.
    Head(u16),
    /// The head never completes: the server closes the connection without
    /// an answer after `HEADER_READ_TIMEOUT`.
    Closed,
}

struct Case {
    name: &'static str,
    /// The request's trace id number.
    n: u32,
    /// The service whose server span must (or must not) exist.
    service: &'static str,
    expect: Expect,
    outcome: Result<(), String>,
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Checks a raw answer against what the case expects.
fn judge(
    expect: Expect,
    says: &str,
    answer: Result<Vec<u8>, String>,
) -> Result<(), String> {
    let answer = answer?;
    match expect {
        Expect::Closed => {
            if answer.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "expected a silent close, got {:?}",
                    String::from_utf8_lossy(&answer)
                ))
            }
        }
        Expect::App(code) | Expect::Head(code) => {
            let status = status_of(&answer);
            let body = body_of(&answer);
            if status != Some(code) {
                return Err(format!("expected {code}, got {status:?}: {body:?}"));
            }
            if matches!(expect, Expect::App(_)) && !body.contains(says) {
                return Err(format!("expected the body to say {says:?}: {body:?}"));
            }
            Ok(())
        }
    }
}

/// A head that trickles in one byte every 100 ms and never ends: the server
/// must close the connection on its own. Meanwhile another client is served.
async fn slow_head(gateway: SocketAddr, n: u32) -> Result<(), String> {
    let stream = TcpStream::connect(gateway)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let mut start =
        b"POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceparent: ".to_vec();
    start.extend_from_slice(&traceparent(n));
    start.extend_from_slice(b"\r\nX-Slow: ");
    writer
        .write_all(&start)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let trickle = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if writer.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    // While the slow head is open, a normal request is served.
    let other = exchange(
        gateway,
        request(
            "POST",
            b"/api/orders",
            &[("traceparent", &traceparent(n + 1))],
            GOOD_ORDER,
        ),
    )
    .await;
    judge(Expect::App(201), "ord-", other).map_err(|e| format!("bystander: {e}"))?;

    let mut answer = Vec::new();
    let closed = tokio::time::timeout(
        HEADER_READ_TIMEOUT * 3,
        reader.read_to_end(&mut answer),
    )
    .await;
    trickle.abort();
    match closed {
        Err(_) => Err(format!(
            "the server kept a trickling head open for {:?}",
            HEADER_READ_TIMEOUT * 3
        )),
        // Closed with or without a reset: either way it is gone.
        Ok(_) => judge(Expect::Closed, "", Ok(answer)),
    }
}

/// A whole head, then a body that trickles in one byte every 200 ms: the
/// service must answer `408` once `BODY_READ_TIMEOUT` has passed.
async fn slow_body(gateway: SocketAddr, n: u32) -> Result<Vec<u8>, String> {
    let stream = TcpStream::connect(gateway)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let mut head = request(
        "POST",
        b"/api/orders",
        &[("traceparent", &traceparent(n))],
        b"",
    );
    // `request` ends the head; declare a body that will be slow to come.
    head.truncate(head.len() - 2);
    head.extend_from_slice(
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user\":",
    );
    writer
        .write_all(&head)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let trickle = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            if writer.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => answer.extend_from_slice(&buf[..k]),
            }
        }
    })
    .await;
    trickle.abort();
    match read {
        Ok(()) => Ok(answer),
        Err(_) => Err(format!("no end of answer within {PATIENCE:?}")),
    }
}

/// The flood: a gateway that serves `FLOOD_LIMIT` requests at once, all of
/// them held by a stand-in order service, receives `FLOOD` requests on new
/// connections. Each must be shed with `503` at once; the held requests
/// must then complete. Returns the number of connections shed.
async fn flood(receiver: &Receiver, first: u32) -> Result<(u64, u64, u64), String> {
    let telemetry = otlp_csp_telemetry::init_with(TelemetryConfig::otlp(
        "gateway",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    ))
    .map_err(|e| e.to_string())?;
    let obs = Obs::new("gateway", &telemetry);

    // The stand-in order service: reports each arrival, answers when told.
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<()>();
    let (open_tx, open) = watch::channel(false);
    let order = Router::new().route(
        "/orders",
        post(move || {
            let arrived_tx = arrived_tx.clone();
            let mut open = open.clone();
            async move {
                let _ = arrived_tx.send(());
                let _ = open.wait_for(|o| *o).await;
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"order_id":"ord-1","charge_id":"ch-1"}"#,
                )
            }
        }),
    );
    let order_listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    // The stand-in's own spans are not part of the test: a provider with no exporter.
    let quiet = Obs::from_providers(
        "order",
        &SdkTracerProvider::builder().build(),
        &SdkMeterProvider::builder().build(),
    );
    let order = RunningService::spawn("order", order_listener, order, &quiet);
    let peer = Peer::new("order", &order.url(), ClientConfig::default(), &obs);
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    let gw = RunningService::spawn(
        "gateway",
        listener,
        gateway::router(&obs, FLOOD_LIMIT, peer),
        &obs,
    );
    let addr = gw.addr();

    let mut held = Vec::new();
    for i in 0..FLOOD_LIMIT as u32 {
        let bytes = request(
            "POST",
            b"/api/orders",
            &[("traceparent", &traceparent(first + i))],
            GOOD_ORDER,
        );
        held.push(tokio::spawn(exchange(addr, bytes)));
    }
    for _ in 0..FLOOD_LIMIT {
        arrived.recv().await.ok_or("the stand-in stopped")?;
    }

    let mut flood = Vec::new();
    for i in 0..FLOOD as u32 {
        let bytes = request(
            "POST",
            b"/api/orders",
            &[("traceparent", &traceparent(first + 100 + i))],
            GOOD_ORDER,
        );
        flood.push(tokio::spawn(exchange(addr, bytes)));
    }
    let mut shed = 0;
    for (i, answer) in flood.into_iter().enumerate() {
        let answer = answer.await.map_err(|e| e.to_string())?;
        judge(Expect::App(503), "overloaded", answer)
            .map_err(|e| format!("flood request {i}: {e}"))?;
        shed += 1;
    }
    open_tx.send(true).map_err(|e| e.to_string())?;
    let mut served = 0;
    for (i, answer) in held.into_iter().enumerate() {
        let answer = answer.await.map_err(|e| e.to_string())?;
        judge(Expect::App(201), "ord-", answer)
            .map_err(|e| format!("held request {i}: {e}"))?;
        served += 1;
    }
    gw.stop(PATIENCE).await;
    order.stop(PATIENCE).await;
    let stats = telemetry.shutdown().await.map_err(|e| e.to_string())?;
    if stats.exported != stats.ended {
        return Err(format!(
            "flood gateway: {} spans ended, {} exported",
            stats.ended, stats.exported
        ));
    }
    Ok((shed, served, stats.exported))
}

fn spans_of(spans: &[TreeSpan], n: u32, service: &str) -> Vec<TreeSpan> {
    let id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id(n)[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    tree::of_trace(spans, &id)
        .into_iter()
        .filter(|s| s.service == service && s.kind == "server")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_traffic_gets_clear_answers_and_bounded_resources() {
    let receiver = Receiver::start().await.unwrap();
    let (obs, set_ups) = SystemTelemetry::to_receiver(&receiver).unwrap();
    // A payment service of our own, reachable directly (the system's is not).
    let pay_listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let pay = RunningService::spawn(
        "payment",
        pay_listener,
        payment::router(&obs.payment, 16, Arc::new(AtomicU64::new(0))),
        &obs.payment,
    );
    let system = System::start(obs, ClientConfig::default()).await.unwrap();
    let gw = system.gateway.addr();
    let user = system.user.addr();
    let pay_addr = pay.addr();

    // Warm up (first connections, lazy statics), then take the baseline.
    let warm = exchange(gw, request("POST", b"/api/orders", &[], GOOD_ORDER)).await;
    judge(Expect::App(201), "ord-", warm).unwrap();
    let rss_before = rss_kib();

    let huge_value = vec![b'a'; MAX_HEADER_BYTES + 1024];
    let many: Vec<(String, Vec<u8>)> = (0..MAX_HEADERS + 36)
        .map(|i| (format!("X-H{i}"), b"v".to_vec()))
        .collect();
    let oversized = {
        let mut b = br#"{"user":"ada","amount_cents":1,"pad":""#.to_vec();
        b.extend(std::iter::repeat_n(
            b'x',
            otlp_csp_services::http::MAX_BODY_BYTES,
        ));
        b.extend_from_slice(br#""}"#);
        b
    };
    // 6 000 levels fit in the body limit; 20 000 do not.
    let nested = |depth: usize| {
        let mut b = br#"{"user":"ada","amount_cents":1,"deep":"#.to_vec();
        b.extend(std::iter::repeat_n(b'[', depth));
        b.extend(std::iter::repeat_n(b']', depth));
        b.push(b'}');
        b
    };
    let deep_user = |depth: usize| {
        let mut b = br#"{"user":"#.to_vec();
        b.extend(std::iter::repeat_n(b'[', depth));
        b.extend(std::iter::repeat_n(b']', depth));
        b.extend_from_slice(br#","amount_cents":1}"#);
        b
    };
    let bad_utf8_body = b"{\"user\":\"\xff\xfe\",\"amount_cents\":1}".to_vec();

    struct Plan {
        name: &'static str,
        addr: SocketAddr,
        service: &'static str,
        expect: Expect,
        says: &'static str,
        method: &'static str,
        path: Vec<u8>,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    }
    let plan =
        |name, addr, service, expect, says, method, path: &[u8], body: Vec<u8>| {
            Plan {
                name,
                addr,
                service,
                expect,
                says,
                method,
                path: path.to_vec(),
                headers: Vec::new(),
                body,
            }
        };
    let mut plans = vec![
        Plan {
            headers: vec![("X-Huge".into(), huge_value)],
            ..plan(
                "a header larger than the head limit",
                gw,
                "gateway",
                Expect::Head(431),
                "",
                "POST",
                b"/api/orders",
                GOOD_ORDER.to_vec(),
            )
        },
        Plan {
            headers: many,
            ..plan(
                "more header fields than allowed",
                gw,
                "gateway",
                Expect::Head(431),
                "",
                "POST",
                b"/api/orders",
                GOOD_ORDER.to_vec(),
            )
        },
        plan(
            "a body over the body limit",
            gw,
            "gateway",
            Expect::App(413),
            "error",
            "POST",
            b"/api/orders",
            oversized,
        ),
        plan(
            "JSON nested 6000 deep in an unknown field",
            pay_addr,
            "payment",
            Expect::App(400),
            "unknown field",
            "POST",
            b"/charges",
            nested(6000),
        ),
        plan(
            "JSON nested 6000 deep where a string belongs",
            gw,
            "gateway",
            Expect::App(400),
            "invalid type",
            "POST",
            b"/api/orders",
            deep_user(6000),
        ),
        plan(
            "JSON nested 20000 deep, over the body limit",
            pay_addr,
            "payment",
            Expect::App(413),
            "error",
            "POST",
            b"/charges",
            nested(20_000),
        ),
        plan(
            "invalid UTF-8 inside a JSON string",
            gw,
            "gateway",
            Expect::App(400),
            "error",
            "POST",
            b"/api/orders",
            bad_utf8_body,
        ),
        plan(
            "invalid UTF-8 percent-encoded in the path",
            user,
            "user",
            Expect::App(400),
            "UTF-8",
            "GET",
            b"/users/%FF%FE",
            Vec::new(),
        ),
        plan(
            "raw non-ASCII bytes in the request line",
            user,
            "user",
            Expect::Head(400),
            "",
            "GET",
            b"/users/\xff\xfe",
            Vec::new(),
        ),
        plan(
            "invalid UTF-8 in the JSON of a request that is otherwise fine",
            gw,
            "gateway",
            Expect::App(400),
            "error",
            "POST",
            b"/api/orders",
            b"{\"user\":\"ada\",\"amount_cents\":1,\xc3\x28:1}".to_vec(),
        ),
    ];
    // A garbage `traceparent` must not break the request: a new trace starts.
    plans.push(Plan {
        headers: vec![("X-Junk".into(), b"\xff\xfe\x80".to_vec())],
        ..plan(
            "non-ASCII bytes in a header value",
            gw,
            "gateway",
            Expect::App(201),
            "ord-",
            "POST",
            b"/api/orders",
            GOOD_ORDER.to_vec(),
        )
    });

    let mut cases = Vec::new();
    for (i, p) in plans.into_iter().enumerate() {
        let n = 10 * (i as u32 + 1);
        let tp = traceparent(n);
        let mut headers: Vec<(&str, &[u8])> = vec![("traceparent", &tp)];
        headers.extend(p.headers.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        let answer =
            exchange(p.addr, request(p.method, &p.path, &headers, &p.body)).await;
        cases.push(Case {
            name: p.name,
            n,
            service: p.service,
            expect: p.expect,
            outcome: judge(p.expect, p.says, answer),
        });
    }
    // A body over the limit without a Content-Length: chunks until the
    // service stops reading.
    let n = 800;
    let mut chunked = request(
        "POST",
        b"/api/orders",
        &[
            ("traceparent", &traceparent(n)),
            ("Content-Type", b"application/json"),
            ("Transfer-Encoding", b"chunked"),
        ],
        b"",
    );
    for _ in 0..(otlp_csp_services::http::MAX_BODY_BYTES / 1024 + 2) {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend(std::iter::repeat_n(b' ', 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    cases.push(Case {
        name: "a chunked body over the body limit",
        n,
        service: "gateway",
        expect: Expect::App(413),
        outcome: judge(Expect::App(413), "over", exchange(gw, chunked).await),
    });
    let n = 850;
    cases.push(Case {
        name: "a body trickled in one byte per 200 ms",
        n,
        service: "gateway",
        expect: Expect::App(408),
        outcome: judge(Expect::App(408), "did not arrive", slow_body(gw, n).await),
    });
    let n = 900;
    cases.push(Case {
        name: "a head trickled in one byte per 100 ms",
        n,
        service: "gateway",
        expect: Expect::Closed,
        outcome: slow_head(gw, n).await,
    });
    let (shed, served, flood_exported) = match flood(&receiver, 1000).await {
        Ok(counts) => counts,
        Err(e) => {
            cases.push(Case {
                name: "a flood of new connections over the concurrency limit",
                n: 1000,
                service: "gateway",
                expect: Expect::App(503),
                outcome: Err(e),
            });
            (0, 0, 0)
        }
    };
    let rss_after = rss_kib();

    pay.stop(PATIENCE).await;
    system.stop(PATIENCE).await;
    let exported = shutdown_all(set_ups).await.unwrap();
    let spans = tree::received_spans(&receiver);

    // Spans: a request a service answered has its server span; a head
    // refused by hyper never reached a service and has none.
    for case in &mut cases {
        if case.outcome.is_err() {
            continue;
        }
        let found = spans_of(&spans, case.n, case.service);
        let ok = match case.expect {
            Expect::App(code) => {
                found.len() == 1 && found[0].status_code == Some(i64::from(code))
            }
            Expect::Head(_) | Expect::Closed => found.is_empty(),
        };
        if !ok {
            case.outcome = Err(format!(
                "{} server span(s) of {} for its trace: {found:#?}",
                found.len(),
                case.service
            ));
        }
    }
    // The flood's requests: one server span each, with the status they got.
    let flood_spans = (0..FLOOD as u32)
        .filter(|i| {
            let s = spans_of(&spans, 1100 + i, "gateway");
            s.len() == 1 && s[0].status_code == Some(503)
        })
        .count() as u64;
    let held_spans = (0..FLOOD_LIMIT as u32)
        .filter(|i| {
            let s = spans_of(&spans, 1000 + i, "gateway");
            s.len() == 1 && s[0].status_code == Some(201)
        })
        .count() as u64;
    if shed > 0 || served > 0 {
        let outcome = if shed == FLOOD as u64
            && served == FLOOD_LIMIT as u64
            && flood_spans == shed
            && held_spans == served
        {
            Ok(())
        } else {
            Err(format!(
                "shed {shed} of {FLOOD} (spans {flood_spans}), served {served} of \
                 {FLOOD_LIMIT} held (spans {held_spans})"
            ))
        };
        cases.push(Case {
            name: "a flood of new connections over the concurrency limit",
            n: 1000,
            service: "gateway",
            expect: Expect::App(503),
            outcome,
        });
    }
    let growth = rss_after.saturating_sub(rss_before);
    cases.push(Case {
        name: "memory stays bounded",
        n: 0,
        service: "",
        expect: Expect::Closed,
        outcome: if growth <= RSS_GROWTH_LIMIT_KIB {
            Ok(())
        } else {
            Err(format!("RSS grew by {growth} KiB"))
        },
    });
    // Nothing the system's four set-ups exported went missing.
    let exported = exported + flood_exported;
    let received = spans.len() as u64;
    cases.push(Case {
        name: "every exported span reached the receiver",
        n: 0,
        service: "",
        expect: Expect::Closed,
        outcome: if received == exported {
            Ok(())
        } else {
            Err(format!("exported {exported}, received {received}"))
        },
    });

    let passed = cases.iter().filter(|c| c.outcome.is_ok()).count();
    let report: String = cases
        .iter()
        .map(|c| {
            let verdict = match (&c.outcome, c.expect) {
                (Err(e), _) => format!("FAILED: {e}"),
                (Ok(()), Expect::App(code) | Expect::Head(code)) if c.n != 0 => {
                    code.to_string()
                }
                (Ok(()), Expect::Closed) if c.n != 0 => "closed, no answer".into(),
                (Ok(()), _) => "ok".into(),
            };
            format!("{:<62} {verdict}\n", c.name)
        })
        .collect();
    print!("{report}");
    record(
        "hostile",
        vec![
            Measurement::count("hostile/cases", cases.len() as f64, "cases")
                .with_text(report.clone()),
            Measurement::count("hostile/cases_passed", passed as f64, "cases"),
            Measurement::count(
                "hostile/connections_shed",
                shed as f64,
                "connections",
            ),
            Measurement::count("hostile/rss_growth", growth as f64, "KiB"),
        ],
    )
    .unwrap();
    receiver.shutdown().await;
    assert_eq!(passed, cases.len(), "\n{report}");
}
