//! The order service: validates the user, charges the payment, answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::http::{
    Obs, Peer, PeerError, ValidJson, Validate, error_response, with_middleware,
};
use crate::payment::{Charge, ChargeRequest};
use crate::user::User;

/// What a client sends to place an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The user id: lower-case letters, digits and `-`, 1 to 64 of them.
    pub user: String,
    /// How much, in cents.
    pub amount_cents: u64,
}

impl Validate for OrderRequest {
    /// Checks what JSON parsing cannot: the shape of the user id.
    fn validate(&self) -> Result<(), String> {
        crate::user::check_id(&self.user)
    }
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `ord-1`, `ord-2`, ...
    pub order_id: String,
    /// The payment's charge id.
    pub charge_id: String,
}

/// The order service's peers and counter.
#[derive(Clone, Debug)]
pub struct OrderState {
    /// The user service.
    pub user: Peer,
    /// The payment service.
    pub payment: Peer,
    next_id: Arc<AtomicU64>,
}

// ANCHOR: handler
async fn create_order(
    State(state): State<OrderState>,
    ValidJson(request): ValidJson<OrderRequest>,
) -> Response {
    // Validate: a GET, idempotent, so the peer client may retry it.
    let path = format!("/users/{}", request.user);
    match state.user.call(Method::GET, &path, None).await {
        Ok((StatusCode::OK, body)) => match read_answer::<User>("user", &body) {
            Ok(user) if user.active => {}
            Ok(_) => {
                return error_response(StatusCode::FORBIDDEN, "user is blocked");
            }
            Err(answer) => return answer,
        },
        Ok((StatusCode::NOT_FOUND, _)) => {
            return error_response(StatusCode::UNPROCESSABLE_ENTITY, "unknown user");
        }
        Ok((status, _)) => return unexpected("user", status),
        Err(e) => return e.into_response(),
    }

    // Charge: a POST, not idempotent, so it is sent exactly once.
    let charge = ChargeRequest {
        user: request.user,
        amount_cents: request.amount_cents,
    };
    let body =
        Bytes::from(serde_json::to_vec(&charge).expect("a charge serialises"));
    let charge_id = match state
        .payment
        .call(Method::POST, "/charges", Some(body))
        .await
    {
        Ok((StatusCode::CREATED, body)) => {
            match read_answer::<Charge>("payment", &body) {
                Ok(c) => c.charge_id,
                Err(answer) => return answer,
            }
        }
        Ok((StatusCode::PAYMENT_REQUIRED, _)) => {
            return error_response(StatusCode::PAYMENT_REQUIRED, "payment declined");
        }
        Ok((status, _)) => return unexpected("payment", status),
        Err(e) => return e.into_response(),
    };
    let id = state.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    let order = Order {
        order_id: format!("ord-{id}"),
        charge_id,
    };
    (StatusCode::CREATED, axum::Json(order)).into_response()
}
// ANCHOR_END: handler

/// A peer's JSON answer as `T`, or the `502` to send our caller when it is
/// not one.
#[allow(
    clippy::result_large_err,
    reason = "the error is the answer the handler returns as it is"
)]
pub(crate) fn read_answer<T: DeserializeOwned>(
    peer: &str,
    body: &[u8],
) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error_response(
            StatusCode::BAD_GATEWAY,
            format!("{peer} answered with a body we cannot read: {e}"),
        )
    })
}

fn unexpected(peer: &'static str, status: StatusCode) -> Response {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return PeerError::Upstream { peer, status }.into_response();
    }
    error_response(
        StatusCode::BAD_GATEWAY,
        format!("{peer} answered {status} unexpectedly"),
    )
}

/// The service's routes with the shared middleware.
pub fn router(
    obs: &Obs,
    max_concurrent: usize,
    user: Peer,
    payment: Peer,
) -> Router {
    let state = OrderState {
        user,
        payment,
        next_id: Arc::default(),
    };
    with_middleware(
        Router::new()
            .route("/orders", post(create_order))
            .with_state(state),
        obs,
        max_concurrent,
    )
}
