//! OTLP/protobuf written straight from the SDK's `SpanData`.
//!
//! opentelemetry-otlp builds an `ExportTraceServiceRequest` out of
//! opentelemetry-proto's generated types first (a `String` or `Vec` for
//! every name, id, key and value of every span) and then has prost encode
//! it, computing each nested message's length on the way down. Chapter 21's
//! profile of a saturated service shows both steps on the export thread.
//! This module writes the same bytes with neither: each field goes into one
//! buffer as it is read from the span, and a nested message's length is
//! written in front of it once its body is there.
//!
//! The bytes are the ones prost writes for the SDK's own conversion, field
//! for field (`tests/span_wire.rs` checks it on generated batches): fields
//! in tag order, proto3 defaults left out, minimal varints, and the spans
//! grouped by instrumentation scope in the order their scopes first appear.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

/// Protobuf wire types (the low three bits of a field's key).
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags` of trace.proto: the span's parent context says whether it
/// was remote (bit 8), and it was (bit 9).
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// Writes export requests for one resource, whose `Resource` message it
/// encodes once, when it is made.
#[derive(Debug, Default, Clone)]
pub struct SpanEncoder {
    resource: Vec<u8>,
    schema_url: String,
    #[cfg(feature = "mutants")]
    planted: Option<Mutant>,
}

/// A deliberate bug in [`SpanEncoder`], for the test that shows the
/// conformance check of `tests/span_wire.rs` can fail (feature `mutants`).
#[cfg(feature = "mutants")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// `Span.flags` and `Link.flags` carry the W3C trace flags only,
    /// without the two bits that say whether the parent was remote: a
    /// collector can no longer tell an entry span from a local child.
    ForgetsRemoteBits,
}

impl SpanEncoder {
    /// An encoder for spans of `resource`.
    pub fn new(resource: &Resource) -> Self {
        let mut message = Vec::new();
        for (key, value) in resource.iter() {
            nested(&mut message, 1, |b| key_value(b, key.as_str(), value));
        }
        SpanEncoder {
            resource: message,
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
            #[cfg(feature = "mutants")]
            planted: None,
        }
    }

    /// This encoder with one deliberate bug.
    #[cfg(feature = "mutants")]
    pub fn with_planted_bug(mut self, bug: Mutant) -> Self {
        self.planted = Some(bug);
        self
    }

    /// Appends to `out` one `ExportTraceServiceRequest` holding `spans`.
    /// Like the SDK's conversion, an empty batch still names the resource.
    pub fn encode(&self, spans: &[SpanData], out: &mut Vec<u8>) {
        // ExportTraceServiceRequest.resource_spans = 1
        nested(out, 1, |b| {
            nested(b, 1, |b| b.extend_from_slice(&self.resource));
            for_each_scope(spans, |scope, members| {
                // ResourceSpans.scope_spans = 2
                nested(b, 2, |b| {
                    nested(b, 1, |b| instrumentation_scope(b, scope));
                    for span in members {
                        nested(b, 2, |b| self.span(b, span));
                    }
                    string(b, 3, scope.schema_url().unwrap_or_default());
                });
            });
            string(b, 3, &self.schema_url);
        });
    }

    // ANCHOR: span
    /// One `Span` message (trace.proto). Fields go in tag order, as prost
    /// writes them, so `flags` (16) comes last.
    fn span(&self, b: &mut Vec<u8>, span: &SpanData) {
        let cx = &span.span_context;
        bytes(b, 1, &cx.trace_id().to_bytes());
        bytes(b, 2, &cx.span_id().to_bytes());
        string(b, 3, &cx.trace_state().header());
        if span.parent_span_id != SpanId::INVALID {
            bytes(b, 4, &span.parent_span_id.to_bytes());
        }
        string(b, 5, &span.name);
        uint(b, 6, kind(&span.span_kind));
        fixed64(b, 7, nanos(span.start_time));
        fixed64(b, 8, nanos(span.end_time));
        attributes(b, 9, &span.attributes);
        uint(b, 10, span.dropped_attributes_count.into());
        for event in span.events.iter() {
            nested(b, 11, |b| {
                fixed64(b, 1, nanos(event.timestamp));
                string(b, 2, &event.name);
                attributes(b, 3, &event.attributes);
                uint(b, 4, event.dropped_attributes_count.into());
            });
        }
        uint(b, 12, span.events.dropped_count.into());
        for link in span.links.iter() {
            nested(b, 13, |b| {
                let cx = &link.span_context;
                bytes(b, 1, &cx.trace_id().to_bytes());
                bytes(b, 2, &cx.span_id().to_bytes());
                string(b, 3, &cx.trace_state().header());
                attributes(b, 4, &link.attributes);
                uint(b, 5, link.dropped_attributes_count.into());
                fixed32(b, 6, self.flags(cx, cx.is_remote()));
            });
        }
        uint(b, 14, span.links.dropped_count.into());
        nested(b, 15, |b| status(b, &span.status));
        fixed32(b, 16, self.flags(cx, span.parent_span_is_remote));
    }
    // ANCHOR_END: span

    /// The W3C trace flags, and whether the parent was remote.
    fn flags(&self, cx: &SpanContext, remote: bool) -> u32 {
        let w3c = u32::from(cx.trace_flags().to_u8());
        #[cfg(feature = "mutants")]
        if self.planted == Some(Mutant::ForgetsRemoteBits) {
            return w3c;
        }
        w3c | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
    }
}

/// Calls `f` once per distinct scope, in the order the scopes first appear,
/// with that scope's spans in batch order. A batch almost always has one
/// scope or a few, so a linear search beats hashing each span's scope.
fn for_each_scope<'a>(
    spans: &'a [SpanData],
    mut f: impl FnMut(&'a InstrumentationScope, &mut dyn Iterator<Item = &'a SpanData>),
) {
    let mut scopes: Vec<&InstrumentationScope> = Vec::new();
    let index: Vec<usize> = spans
        .iter()
        .map(|s| {
            let scope = &s.instrumentation_scope;
            scopes.iter().position(|&k| k == scope).unwrap_or_else(|| {
                scopes.push(scope);
                scopes.len() - 1
            })
        })
        .collect();
    for (i, scope) in scopes.iter().enumerate() {
        let mut members = spans
            .iter()
            .zip(&index)
            .filter(|(_, k)| **k == i)
            .map(|p| p.0);
        f(scope, &mut members);
    }
}

fn instrumentation_scope(b: &mut Vec<u8>, scope: &InstrumentationScope) {
    string(b, 1, scope.name());
    string(b, 2, scope.version().unwrap_or_default());
    attributes(b, 3, scope.attributes());
}

/// `Span.SpanKind` of trace.proto (0 is UNSPECIFIED, which the SDK never sets).
fn kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// `Status`: message = 2, code = 3 (UNSET 0, OK 1, ERROR 2).
fn status(b: &mut Vec<u8>, status: &Status) {
    let code = match status {
        Status::Unset => 0,
        Status::Ok => 1,
        Status::Error { description } => {
            string(b, 2, description);
            2
        }
    };
    uint(b, 3, code);
}

/// Nanoseconds since the Unix epoch; a time before it is 0, as the SDK's
/// conversion has it.
fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Repeated `KeyValue` field `field`.
fn attributes<'a>(
    b: &mut Vec<u8>,
    field: u32,
    kvs: impl IntoIterator<Item = &'a KeyValue>,
) {
    for kv in kvs {
        nested(b, field, |b| key_value(b, kv.key.as_str(), &kv.value));
    }
}

fn key_value(b: &mut Vec<u8>, key: &str, value: &Value) {
    string(b, 1, key);
    nested(b, 2, |b| any_value(b, value));
}

/// `AnyValue`: a oneof, so its one field is written even when it holds the
/// default (an empty string, false, 0).
fn any_value(b: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => always_string(b, 1, s.as_str()),
        Value::Bool(v) => always_varint(b, 2, u64::from(*v)),
        Value::I64(v) => always_varint(b, 3, *v as u64),
        Value::F64(v) => {
            key(b, 4, FIXED64);
            b.extend_from_slice(&v.to_le_bytes());
        }
        Value::Array(array) => nested(b, 5, |b| match array {
            Array::Bool(v) => v.iter().for_each(|v| element(b, &Value::Bool(*v))),
            Array::I64(v) => v.iter().for_each(|v| element(b, &Value::I64(*v))),
            Array::F64(v) => v.iter().for_each(|v| element(b, &Value::F64(*v))),
            Array::String(v) => v.iter().for_each(|v| {
                nested(b, 1, |b| always_string(b, 1, v.as_str()));
            }),
            // A kind of array added to the API after this was written:
            // sent as its text rather than lost.
            other => nested(b, 1, |b| always_string(b, 1, &format!("{other}"))),
        }),
        // Likewise a kind of value added later.
        other => always_string(b, 1, &other.as_str()),
    }
}

/// One element of `ArrayValue.values` (field 1).
fn element(b: &mut Vec<u8>, value: &Value) {
    nested(b, 1, |b| any_value(b, value));
}

// The wire format itself: keys, varints, and length-delimited fields.

fn varint(b: &mut Vec<u8>, v: u64) {
    let mut bytes = [0u8; 10];
    let n = varint_into(&mut bytes, v);
    b.extend_from_slice(&bytes[..n]);
}

/// Writes `v` as a varint at the front of `out`; returns its length.
fn varint_into(out: &mut [u8; 10], mut v: u64) -> usize {
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    n + 1
}

fn key(b: &mut Vec<u8>, field: u32, wire: u32) {
    varint(b, u64::from(field << 3 | wire));
}

fn uint(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        always_varint(b, field, v);
    }
}

fn always_varint(b: &mut Vec<u8>, field: u32, v: u64) {
    key(b, field, VARINT);
    varint(b, v);
}

fn fixed64(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        key(b, field, FIXED64);
        b.extend_from_slice(&v.to_le_bytes());
    }
}

fn fixed32(b: &mut Vec<u8>, field: u32, v: u32) {
    if v != 0 {
        key(b, field, FIXED32);
        b.extend_from_slice(&v.to_le_bytes());
    }
}

fn string(b: &mut Vec<u8>, field: u32, s: &str) {
    bytes(b, field, s.as_bytes());
}

fn always_string(b: &mut Vec<u8>, field: u32, s: &str) {
    key(b, field, LEN);
    varint(b, s.len() as u64);
    b.extend_from_slice(s.as_bytes());
}

fn bytes(b: &mut Vec<u8>, field: u32, v: &[u8]) {
    if !v.is_empty() {
        key(b, field, LEN);
        varint(b, v.len() as u64);
        b.extend_from_slice(v);
    }
}

// ANCHOR: nested
/// A length-delimited field whose body `body` writes. The length goes in
/// front of the body, and is only known after it: one byte is kept for it,
/// which is enough for a body under 128 bytes, and a longer body moves up
/// by the bytes its length needs beyond that one.
fn nested(b: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    key(b, field, LEN);
    let at = b.len();
    b.push(0);
    body(b);
    let len = b.len() - at - 1;
    if len < 0x80 {
        b[at] = len as u8;
    } else {
        let mut prefix = [0u8; 10];
        let n = varint_into(&mut prefix, len as u64);
        b.splice(at..=at, prefix[..n].iter().copied());
    }
}
// ANCHOR_END: nested
