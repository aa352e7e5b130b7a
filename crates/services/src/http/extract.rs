//! The one way a service reads a JSON request body: [`ValidJson`].

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::server::{error_response, json_rejection};

/// What JSON parsing cannot check about a request: the values' shapes and
/// ranges.
pub trait Validate {
    /// `Err` with a message for the client when the request is bad input.
    fn validate(&self) -> Result<(), String>;
}

/// A JSON request body that parsed into `T` and passed [`Validate`]. When it
/// does not, the handler never runs; the client gets `400` with the parser's
/// or the check's message, `413` for a body over the limit, `415` without
/// `Content-Type: application/json`, always as `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state)
            .await
            .map_err(json_rejection)?;
        value
            .validate()
            .map_err(|message| error_response(StatusCode::BAD_REQUEST, message))?;
        Ok(Self(value))
    }
}
