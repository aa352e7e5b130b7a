//! The user service: `GET /users/{id}` says whether a user exists and may buy.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::http::{Obs, error_response, with_middleware};

/// A user as the order service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The id in the path.
    pub id: String,
    /// Whether the user may place orders.
    pub active: bool,
}

/// Checks the shape of a user id: 1 to 64 lower-case letters, digits and
/// `-`. Every service that takes an id in a body checks it with this.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "user {id:?} is not an id (lower-case letters, digits, '-')"
        ))
    }
}

/// The users this demo knows: `ada` and `grace` are active, `mallory` is blocked.
pub fn lookup(id: &str) -> Option<User> {
    let active = match id {
        "ada" | "grace" => true,
        "mallory" => false,
        _ => return None,
    };
    Some(User {
        id: id.to_owned(),
        active,
    })
}

async fn get_user(Path(id): Path<String>) -> Response {
    match lookup(&id) {
        Some(user) => axum::Json(user).into_response(),
        None => {
            error_response(StatusCode::NOT_FOUND, format!("unknown user {id:?}"))
        }
    }
}

/// The service's routes with the shared middleware.
pub fn router(obs: &Obs, max_concurrent: usize) -> Router {
    with_middleware(
        Router::new().route("/users/{id}", get(get_user)),
        obs,
        max_concurrent,
    )
}
