//! Carriers over `http::HeaderMap` that keep every field of a repeated header.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// Stands in for a field value that is not visible ASCII. It matches no W3C
/// grammar, so the field is treated as invalid instead of silently vanishing.
const NOT_ASCII: &str = "\u{FFFD}";

/// Reads a request's headers for a propagator.
///
/// Like `opentelemetry_http::HeaderExtractor`, with one difference that
/// matters for W3C conformance: a field whose value is not visible ASCII is
/// returned as an invalid marker by [`Extractor::get_all`] instead of being
/// left out, so "two `tracestate` fields, one of them corrupt" is not mistaken
/// for "one valid `tracestate` field".
#[derive(Clone, Copy, Debug)]
pub struct HeaderCarrier<'a>(pub &'a HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.to_str().unwrap_or(NOT_ASCII))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(NOT_ASCII))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Writes a propagator's fields into outgoing headers, replacing any field of
/// the same name (a forwarded request carries exactly one `traceparent`).
#[derive(Debug)]
pub struct HeaderCarrierMut<'a>(pub &'a mut HeaderMap);

/// The fields the book's propagators write, as names made at compile time:
/// `HeaderName::from_bytes` would copy each of them into a new buffer.
const KNOWN: [HeaderName; 3] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
];

impl Injector for HeaderCarrierMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = match KNOWN.iter().find(|k| k.as_str() == key) {
            Some(known) => Ok(known.clone()),
            None => HeaderName::from_bytes(key.as_bytes()),
        };
        // `try_from(String)` keeps the string's buffer instead of copying it.
        // Both conversions fail only for text no propagator here produces.
        if let (Ok(name), Ok(value)) = (name, HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}
