//! The load generator against a real HTTP server on 127.0.0.1: every request
//! it reports is one the server saw, bad answers are counted, POST bodies
//! arrive intact, a `traceparent` goes on exactly the share asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use bytes::Bytes;
use otlp_csp_loadgen::{
    Bounds, HttpConnection, Schedule, Target, closed_loop, open_loop,
};

/// Serves `/ok` (counts), `/fail` (503) and `/echo` (counts bodies equal to `BODY`).
async fn server() -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
    const BODY: &[u8] = br#"{"user":"ada"}"#;
    let hits = Arc::new(AtomicU64::new(0));
    let good_bodies = Arc::new(AtomicU64::new(0));
    let (h, g) = (hits.clone(), good_bodies.clone());
    let app = Router::new()
        .route(
            "/ok",
            get(move || {
                h.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .route("/fail", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route(
            "/echo",
            post(move |body: Bytes| {
                if body.as_ref() == BODY {
                    g.fetch_add(1, Ordering::SeqCst);
                }
                async { "ok" }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits, good_bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reported_request_reached_the_server() {
    let (base, hits, _) = server().await;
    let target = Target::parse(&format!("{base}/ok")).unwrap();
    let bounds = Bounds::new(300, Duration::from_secs(30)).unwrap();
    let conns = HttpConnection::open_many(&target, 4).await.unwrap();
    let r = closed_loop(conns, bounds).await.unwrap();
    assert!(r.all_answered(), "{}", r.summary());
    assert_eq!((r.ok, hits.load(Ordering::SeqCst)), (300, 300));

    let conns = HttpConnection::open_many(&target, 4).await.unwrap();
    let r = open_loop(conns, Schedule::new(2000.0).unwrap(), bounds)
        .await
        .unwrap();
    assert!(r.all_answered(), "{}", r.summary());
    assert_eq!((r.ok, hits.load(Ordering::SeqCst)), (300, 600));
    assert_eq!(r.latency.len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_are_counted_not_hidden() {
    let (base, _, _) = server().await;
    let target = Target::parse(&format!("{base}/fail")).unwrap();
    let conns = HttpConnection::open_many(&target, 2).await.unwrap();
    let r = closed_loop(conns, Bounds::new(10, Duration::from_secs(30)).unwrap())
        .await
        .unwrap();
    assert_eq!((r.ok, r.bad_status), (0, 10));
    assert!(!r.all_answered());
    assert_eq!(r.last_error.as_deref(), Some("HTTP status 503"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_bodies_arrive_intact_on_every_connection() {
    let (base, _, good) = server().await;
    let target = Target::parse(&format!("{base}/echo")).unwrap();
    let first = HttpConnection::open_post(
        &target,
        Bytes::from_static(br#"{"user":"ada"}"#),
        "application/json",
    )
    .await
    .unwrap();
    let conns = first.open_like(&target, 3).await.unwrap();
    let r = closed_loop(conns, Bounds::new(50, Duration::from_secs(30)).unwrap())
        .await
        .unwrap();
    assert!(r.all_answered(), "{}", r.summary());
    assert_eq!(good.load(Ordering::SeqCst), 50);
}

/// Serves `/tp`: counts requests, and those with a well-formed `traceparent`.
async fn traceparent_server() -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let with_parent = Arc::new(AtomicU64::new(0));
    let (h, w) = (hits.clone(), with_parent.clone());
    let app = Router::new().route(
        "/tp",
        get(move |headers: axum::http::HeaderMap| {
            h.fetch_add(1, Ordering::SeqCst);
            let value = headers.get("traceparent").and_then(|v| v.to_str().ok());
            if let Some(v) = value {
                let parts: Vec<&str> = v.split('-').collect();
                if parts.len() == 4 && parts[1].len() == 32 && parts[2].len() == 16 {
                    w.fetch_add(1, Ordering::SeqCst);
                }
            }
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/tp"), hits, with_parent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traceparent_goes_on_every_tenth_request() {
    let (url, hits, with_parent) = traceparent_server().await;
    let target = Target::parse(&url).unwrap();
    let every = std::num::NonZeroU64::new(10).unwrap();
    let first = HttpConnection::open(&target)
        .await
        .unwrap()
        .with_traceparent_every(every);
    // One connection: requests 0, 10, ..., 990 of 1000 carry one.
    let bounds = Bounds::new(1000, Duration::from_secs(30)).unwrap();
    let r = closed_loop(vec![first], bounds).await.unwrap();
    assert!(r.all_answered(), "{}", r.summary());
    assert_eq!(hits.load(Ordering::SeqCst), 1000);
    assert_eq!(with_parent.load(Ordering::SeqCst), 100);
    // Connections opened like it do the same; plain ones send none.
    let like = HttpConnection::open(&target)
        .await
        .unwrap()
        .with_traceparent_every(every)
        .open_like(&target, 2)
        .await
        .unwrap();
    let r = closed_loop(like, Bounds::new(40, Duration::from_secs(30)).unwrap())
        .await
        .unwrap();
    assert!(r.all_answered(), "{}", r.summary());
    let sent = with_parent.load(Ordering::SeqCst) - 100;
    assert!((4..=5).contains(&sent), "{sent} of 40 on two connections");
    let plain = HttpConnection::open_many(&target, 2).await.unwrap();
    closed_loop(plain, Bounds::new(40, Duration::from_secs(30)).unwrap())
        .await
        .unwrap();
    assert_eq!(with_parent.load(Ordering::SeqCst), 100 + sent);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target = Target::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let e = HttpConnection::open(&target).await.unwrap_err();
    assert!(
        e.to_string().starts_with("cannot connect to 127.0.0.1:"),
        "{e}"
    );
}
