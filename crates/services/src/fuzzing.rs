//! The check the fuzz target `service_request_body` (`fuzz/fuzz_targets/`)
//! runs on each input, shared with the test that replays the saved corpus
//! on stable Rust (`tests/fuzz_corpus.rs`). It panics on a broken
//! invariant, which is how libFuzzer recognises a finding.
//!
//! Everything runs in process: requests go through the services' own
//! extractor ([`ValidJson`]) or the payment service's whole router, driven
//! by `tower::ServiceExt::oneshot` on one current-thread runtime; no socket
//! is opened and no telemetry is exported.

use std::convert::Infallible;
use std::fmt::Debug;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::{Layer as _, ServiceExt as _};

use crate::http::{MAX_BODY_BYTES, Obs, ValidJson, Validate};
use crate::order::{OrderRequest, read_answer};
use crate::payment::{self, Charge, ChargeRequest, LIMIT_CENTS};
use crate::user::User;

/// The `Content-Type` headers a request may carry (`None`: no header); the
/// first two are JSON.
pub const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("Application/JSON; Charset=UTF-8"),
    Some("text/plain"),
    None,
];

/// One request body. The first byte chooses what reads it; the rest is the
/// body:
///
/// - bits 0-1: the reader: an [`OrderRequest`] through [`ValidJson`] (the
///   gateway's and the order service's handlers); a [`ChargeRequest`]
///   through [`ValidJson`]; the order service's reading of a peer's answer
///   ([`User`] and [`Charge`]); the payment service's whole router,
///   middleware included (`POST /charges`);
/// - bits 2-3: `Content-Type`, one of [`CONTENT_TYPES`];
/// - bit 4: send a `Content-Length` (the true one), as a client that does
///   not stream its body would;
/// - bits 5-6: the size: the body as it is; repeated until it is over
///   [`MAX_BODY_BYTES`]; padded with spaces to one byte over; padded with
///   spaces to exactly [`MAX_BODY_BYTES`] (a body already longer is kept);
/// - bit 7: unused.
///
/// Whatever the input: no panic. An accepted request came from a JSON
/// `Content-Type` and at most [`MAX_BODY_BYTES`], is what `serde_json`
/// reads from the body, passes [`Validate`], and survives a `serde_json`
/// round trip unchanged; a request that parses and validates is accepted. A
/// refused one gets `400`, `413` (only above the limit) or `415` (only
/// without a JSON type); a peer answer that cannot be read gets `502`;
/// every refusal has the body `{"error": "<message>"}`. The payment router
/// answers exactly what the body deserves: `413` above the limit whatever
/// the headers, else `415`, `400`, `402` (over [`LIMIT_CENTS`]) or `201`
/// with a charge id.
pub fn request_body(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let kind = usize::from((selector >> 2) & 3);
    let json = kind < 2;
    let content_length = selector & 0x10 != 0;
    let body = sized(payload, (selector >> 5) & 3);
    let request = || make_request(CONTENT_TYPES[kind], content_length, &body);
    match selector & 3 {
        0 => check_extractor::<OrderRequest>(request(), json, &body),
        1 => check_extractor::<ChargeRequest>(request(), json, &body),
        2 => {
            check_answer::<User>("user", &body);
            check_answer::<Charge>("payment", &body);
        }
        _ => check_payment(request(), json, &body),
    }
}

/// The body the size bits ask for.
fn sized(payload: &[u8], size: u8) -> Vec<u8> {
    let mut body = payload.to_vec();
    match size {
        0 => {}
        1 => {
            let unit = if payload.is_empty() { b" " } else { payload };
            while body.len() <= MAX_BODY_BYTES {
                body.extend_from_slice(unit);
            }
        }
        2 => body.resize(body.len().max(MAX_BODY_BYTES + 1), b' '),
        _ => body.resize(body.len().max(MAX_BODY_BYTES), b' '),
    }
    body
}

fn make_request(
    content_type: Option<&str>,
    content_length: bool,
    body: &[u8],
) -> Request {
    let mut request = Request::builder().method(Method::POST).uri("/charges");
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if content_length {
        request = request.header(CONTENT_LENGTH, body.len());
    }
    request
        .body(Body::from(body.to_vec()))
        .expect("a valid request")
}

/// The runtime every input runs on: one thread, the one libFuzzer calls from.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

/// The payment service's router, middleware included, with telemetry
/// providers that export nothing.
static PAYMENT: LazyLock<Router> = LazyLock::new(|| {
    let tracer_provider = SdkTracerProvider::builder().build();
    let meter_provider = SdkMeterProvider::builder().build();
    let obs = Obs::from_providers("payment", &tracer_provider, &meter_provider);
    payment::router(&obs, 64, Arc::default())
});

/// `T` through [`ValidJson`], behind the body limit every service has.
fn check_extractor<T>(request: Request, json: bool, body: &[u8])
where
    T: DeserializeOwned + Serialize + Validate + PartialEq + Debug + Send + 'static,
{
    let extract = tower::service_fn(|request: Request| async {
        Ok::<_, Infallible>(ValidJson::<T>::from_request(request, &()).await)
    });
    let service = DefaultBodyLimit::max(MAX_BODY_BYTES).layer(extract);
    let Ok(outcome) = RUNTIME.block_on(service.oneshot(request));
    let parsed = serde_json::from_slice::<T>(body)
        .ok()
        .filter(|value| value.validate().is_ok());
    let deserves = json && body.len() <= MAX_BODY_BYTES && parsed.is_some();
    match outcome {
        Ok(ValidJson(value)) => {
            assert!(deserves, "accepted: json {json}, {} bytes", body.len());
            assert_eq!(parsed.as_ref(), Some(&value), "not what serde_json reads");
            assert_eq!(value.validate(), Ok(()));
            assert_eq!(round_trip(&value), value);
        }
        Err(response) => {
            assert!(!deserves, "refused a good request: {response:?}");
            let (status, message) = error_answer(response);
            match status {
                StatusCode::BAD_REQUEST => {}
                StatusCode::PAYLOAD_TOO_LARGE => {
                    assert!(
                        body.len() > MAX_BODY_BYTES,
                        "413 for {} bytes",
                        body.len()
                    );
                }
                StatusCode::UNSUPPORTED_MEDIA_TYPE => assert!(!json, "415 for JSON"),
                other => panic!("refused with {other}: {message}"),
            }
        }
    }
}

/// The order service's reading of a peer's answer.
fn check_answer<T>(peer: &str, body: &[u8])
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let plain = serde_json::from_slice::<T>(body).ok();
    match read_answer::<T>(peer, body) {
        Ok(value) => {
            assert_eq!(plain.as_ref(), Some(&value), "not what serde_json reads");
            assert_eq!(round_trip(&value), value);
        }
        Err(response) => {
            assert!(plain.is_none(), "refused a good answer");
            let (status, message) = error_answer(response);
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{message}");
            assert!(
                message.starts_with(peer),
                "{message:?} does not name {peer}"
            );
        }
    }
}

/// The payment router, middleware and handler.
fn check_payment(request: Request, json: bool, body: &[u8]) {
    let Ok(response) = RUNTIME.block_on(PAYMENT.clone().oneshot(request));
    let deserves = if body.len() > MAX_BODY_BYTES {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if !json {
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    } else {
        match serde_json::from_slice::<ChargeRequest>(body) {
            Ok(charge) if charge.validate().is_err() => StatusCode::BAD_REQUEST,
            Ok(charge) if charge.amount_cents > LIMIT_CENTS => {
                StatusCode::PAYMENT_REQUIRED
            }
            Ok(_) => StatusCode::CREATED,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    };
    let status = response.status();
    if status == StatusCode::CREATED {
        assert_eq!(deserves, status);
        let bytes = read_body(response);
        let charge: Charge =
            serde_json::from_slice(&bytes).expect("a charge in a 201");
        assert!(charge.charge_id.starts_with("ch-"), "{charge:?}");
    } else {
        let (status, message) = error_answer(response);
        assert_eq!(
            status,
            deserves,
            "{message}; json {json}, {} bytes",
            body.len()
        );
    }
}

/// The status and message of a refusal, whose body must be
/// `{"error": "<message>"}` with a message that says something.
fn error_answer(response: Response) -> (StatusCode, String) {
    let status = response.status();
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status} is no refusal"
    );
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{status}"
    );
    let bytes = read_body(response);
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{status}: the body is not JSON ({e})"));
    let object = value.as_object().expect("an error body is an object");
    assert_eq!(object.len(), 1, "{value}");
    let message = object
        .get("error")
        .and_then(|m| m.as_str())
        .unwrap_or_else(|| panic!("{status}: no \"error\" string in {value}"));
    assert!(!message.trim().is_empty(), "{status} with an empty message");
    (status, message.to_owned())
}

fn read_body(response: Response) -> axum::body::Bytes {
    RUNTIME
        .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
        .expect("an in-memory body")
}

fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let bytes = serde_json::to_vec(value).expect("a request serialises");
    serde_json::from_slice(&bytes).expect("what serialises parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A selector: reader (0-3), content type (0-3), Content-Length, size (0-3).
    fn input(
        reader: u8,
        content_type: u8,
        length: bool,
        size: u8,
        body: &[u8],
    ) -> Vec<u8> {
        let selector =
            reader | content_type << 2 | u8::from(length) << 4 | size << 5;
        let mut data = vec![selector];
        data.extend_from_slice(body);
        data
    }

    const ORDER: &[u8] = br#"{"user":"ada","amount_cents":1250}"#;

    #[test]
    fn hand_made_inputs_pass_the_checks() {
        request_body(b"");
        let deep = "[".repeat(10_000);
        let deep_in_field = format!(r#"{{"user":"ada","amount_cents":1,"x":{deep}"#);
        let bodies: [&[u8]; 16] = [
            ORDER,
            br#"{"user":"ada","amount_cents":100001}"#,
            br#"{"user":"ada","amount_cents":0}"#,
            br#"{"user":"Ada!","amount_cents":1}"#,
            br#"{"user":"ada","amount_cents":1,"extra":true}"#,
            br#"{"user":"ada","user":"grace","amount_cents":1}"#,
            br#"{"user":"ada","amount_cents":18446744073709551616}"#,
            br#"{"user":"ada","amount_cents":1e400}"#,
            br#"{"user":"ada","amount_cents":-1}"#,
            b"{\"user\":\"\xff\xfe\",\"amount_cents\":1}",
            br#"{"id":"ada","active":true}"#,
            br#"{"charge_id":"ch-1"}"#,
            br#"["ada",1]"#,
            deep.as_bytes(),
            deep_in_field.as_bytes(),
            b"",
        ];
        for body in bodies {
            for reader in 0..4 {
                for content_type in 0..4 {
                    for length in [false, true] {
                        for size in 0..4 {
                            request_body(&input(
                                reader,
                                content_type,
                                length,
                                size,
                                body,
                            ));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_payment_router_answers_each_kind_of_body() {
        let status = |data: Vec<u8>| {
            let (&selector, payload) = data.split_first().unwrap();
            let body = sized(payload, (selector >> 5) & 3);
            let content_type = CONTENT_TYPES[usize::from((selector >> 2) & 3)];
            let request = make_request(content_type, selector & 0x10 != 0, &body);
            RUNTIME
                .block_on(PAYMENT.clone().oneshot(request))
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(status(input(3, 0, true, 0, ORDER)), 201);
        assert_eq!(status(input(3, 1, false, 3, ORDER)), 201);
        assert_eq!(
            status(input(
                3,
                0,
                true,
                0,
                br#"{"user":"ada","amount_cents":100001}"#
            )),
            402
        );
        assert_eq!(
            status(input(3, 0, true, 0, br#"{"user":"ada","amount_cents":0}"#)),
            400
        );
        assert_eq!(status(input(3, 2, true, 0, ORDER)), 415);
        assert_eq!(status(input(3, 3, false, 0, ORDER)), 415);
        assert_eq!(status(input(3, 0, false, 2, ORDER)), 413);
        assert_eq!(status(input(3, 0, true, 1, ORDER)), 413);
    }
}
