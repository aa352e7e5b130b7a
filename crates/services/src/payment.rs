//! The payment service: `POST /charges` charges an amount to a user.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use crate::http::{Obs, ValidJson, Validate, error_response, with_middleware};

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

impl Validate for ChargeRequest {
    /// A charge is to a user id of the right shape, of at least one cent.
    /// (An amount over [`LIMIT_CENTS`] is valid input: the service declines
    /// it with `402`.)
    fn validate(&self) -> Result<(), String> {
        crate::user::check_id(&self.user)?;
        if self.amount_cents == 0 {
            return Err("amount_cents must be at least 1".into());
        }
        Ok(())
    }
}

/// A captured charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// `ch-1`, `ch-2`, ... in the order charges were made.
    pub charge_id: String,
}

async fn charge(
    State(next_id): State<Arc<AtomicU64>>,
    ValidJson(request): ValidJson<ChargeRequest>,
) -> Response {
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
