//! The protections one at a time, against small stand-in servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp_services::http::with_middleware;
use otlp_csp_services::{ClientConfig, Obs, Peer, PeerError, RunningService};
use tokio::sync::{Notify, mpsc};

fn obs(name: &'static str) -> Obs {
    Obs::from_providers(
        name,
        &SdkTracerProvider::builder().build(),
        &SdkMeterProvider::builder().build(),
    )
}

/// Answers 500 to the first `failures` calls, then 200; counts calls.
async fn flaky(
    State((calls, failures)): State<(Arc<AtomicU32>, u32)>,
) -> StatusCode {
    if calls.fetch_add(1, Ordering::SeqCst) < failures {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn serve(app: Router, obs: &Obs) -> RunningService {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    RunningService::spawn("stand-in", listener, app, obs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_is_retried_post_is_not() {
    let server_obs = obs("flaky");
    let calls = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route("/thing", get(flaky).post(flaky))
        .with_state((calls.clone(), 2));
    let server = serve(app, &server_obs).await;
    let config = ClientConfig {
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(2),
        ..ClientConfig::default()
    };
    let peer = Peer::new("flaky", &server.url(), config, &obs("client"));

    // GET: two 500s, then the third attempt succeeds.
    let (status, _) = peer.call(Method::GET, "/thing", None).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // POST: sent once, its 500 comes back as an error.
    calls.store(0, Ordering::SeqCst);
    let err = peer
        .call(Method::POST, "/thing", Some("{}".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, PeerError::Upstream { .. }), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_peer_times_out_and_is_counted_as_a_failure() {
    let server_obs = obs("hang");
    let app = Router::new().route(
        "/hang",
        post(|| async {
            std::future::pending::<()>().await;
        }),
    );
    let server = serve(app, &server_obs).await;
    let config = ClientConfig {
        timeout: Duration::from_millis(50),
        breaker: otlp_csp_resilience::BreakerConfig::new(
            1,
            Duration::from_secs(3600),
            1,
        )
        .unwrap(),
        ..ClientConfig::default()
    };
    let peer = Peer::new("hang", &server.url(), config, &obs("client"));
    let err = peer.call(Method::POST, "/hang", None).await.unwrap_err();
    assert!(matches!(err, PeerError::Timeout { .. }), "{err:?}");
    // One failure with a threshold of one: the next call is refused unsent.
    let err = peer.call(Method::POST, "/hang", None).await.unwrap_err();
    assert!(matches!(err, PeerError::CircuitOpen { .. }), "{err:?}");
    server.stop(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_inbound_limit_requests_are_shed_with_503() {
    let obs = obs("busy");
    let release = Arc::new(Notify::new());
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let gate = release.clone();
    let app = with_middleware(
        Router::new().route(
            "/work",
            get(move || {
                let (gate, entered_tx) = (gate.clone(), entered_tx.clone());
                async move {
                    let _ = entered_tx.send(());
                    gate.notified().await;
                    "done"
                }
            }),
        ),
        &obs,
        1,
    );
    let server = serve(app, &obs).await;
    let url = format!("{}/work", server.url());
    let first = tokio::spawn(reqwest::get(url.clone()));
    entered.recv().await.unwrap();
    // The one slot is taken: the next request is refused at once.
    let second = reqwest::get(&url).await.unwrap();
    assert_eq!(second.status().as_u16(), 503);
    assert!(second.text().await.unwrap().contains("overloaded"));
    release.notify_one();
    assert_eq!(first.await.unwrap().unwrap().status().as_u16(), 200);
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_is_refused_not_read_into_memory() {
    use axum::body::Body;
    use otlp_csp_services::http::MAX_ANSWER_BYTES;
    let server_obs = obs("big");
    let app = Router::new()
        // With a Content-Length: refused from the header.
        .route("/sized", get(|| async { vec![b'x'; MAX_ANSWER_BYTES + 1] }))
        // Streamed, no length: refused once the bytes pass the limit.
        .route(
            "/streamed",
            get(|| async {
                let chunks =
                    (0..100).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 4096]));
                Body::from_stream(futures::stream::iter(chunks))
            }),
        )
        .route("/fits", get(|| async { vec![b'x'; MAX_ANSWER_BYTES] }));
    let server = serve(app, &server_obs).await;
    let peer = Peer::new(
        "big",
        &server.url(),
        ClientConfig::default(),
        &obs("client"),
    );
    for path in ["/sized", "/streamed"] {
        let err = peer.call(Method::GET, path, None).await.unwrap_err();
        assert!(
            matches!(err, PeerError::AnswerTooLarge { .. }),
            "{path}: {err:?}"
        );
        assert_eq!(err.into_response().status(), StatusCode::BAD_GATEWAY);
    }
    let (status, body) = peer.call(Method::GET, "/fits", None).await.unwrap();
    assert_eq!((status, body.len()), (StatusCode::OK, MAX_ANSWER_BYTES));
    server.stop(Duration::from_secs(1)).await;
}
