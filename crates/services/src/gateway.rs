//! The gateway: the public entry. Checks the request, forwards it to the
//! order service, passes the answer back.

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;

use crate::http::{Obs, Peer, ValidJson, with_middleware};
use crate::order::OrderRequest;

async fn place_order(
    State(order): State<Peer>,
    ValidJson(request): ValidJson<OrderRequest>,
) -> Response {
    let body =
        Bytes::from(serde_json::to_vec(&request).expect("an order serialises"));
    match order.call(Method::POST, "/orders", Some(body)).await {
        // The order service's answer, whatever it is, goes back as it came.
        Ok((status, body)) => (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn health() -> &'static str {
    "ok"
}

/// The service's routes with the shared middleware.
pub fn router(obs: &Obs, max_concurrent: usize, order: Peer) -> Router {
    with_middleware(
        Router::new()
            .route("/api/orders", post(place_order))
            .route("/healthz", get(health))
            .with_state(order),
        obs,
        max_concurrent,
    )
}
