//! The payment service: `POST /charges` charges an amount to a user.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::http::{Obs, error_response, json_rejection, with_middleware};

/// The largest amount a single charge may have, in cents.
pub const LIMIT_CENTS: u64 = 100_000;

/// A charge request. Unknown fields are refused, as in every service: the
/// parser then never descends into a value the struct does not name, so a
/// body nested thousands of levels deep costs one short scan and a `400`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    /// Who pays.
    pub user: String,
    /// How much, in cents.
    pub amount_cents: u64,
}

/// A captured charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// `ch-1`, `ch-2`, ... in the order charges were made.
    pub charge_id: String,
}

async fn charge(
    State(next_id): State<Arc<AtomicU64>>,
    body: Result<axum::Json<ChargeRequest>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(axum::Json(r)) => r,
        Err(rejection) => return json_rejection(rejection),
    };
    if request.amount_cents == 0 {
        return error_response(StatusCode::BAD_REQUEST, "amount_cents must be at least 1");
    }
    if request.amount_cents > LIMIT_CENTS {
        return error_response(
            StatusCode::PAYMENT_REQUIRED,
            format!("declined: {} cents is over the limit", request.amount_cents),
        );
    }
    let id = next_id.fetch_add(1, Ordering::SeqCst) + 1;
    (
        StatusCode::CREATED,
        axum::Json(Charge {
            charge_id: format!("ch-{id}"),
        }),
    )
        .into_response()
}

/// The service's routes with the shared middleware. Charge ids count from
/// `next_id` (shared across restarts in the tests).
pub fn router(obs: &Obs, max_concurrent: usize, next_id: Arc<AtomicU64>) -> Router {
    with_middleware(
        Router::new()
            .route("/charges", post(charge))
            .with_state(next_id),
        obs,
        max_concurrent,
    )
}
