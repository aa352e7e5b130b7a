//! The book's span encoder (`span_wire`) against the SDK's own path to the
//! wire: opentelemetry-proto's conversion of the same `SpanData`, encoded by
//! prost. The bytes must be equal, for generated batches that cover every
//! field, every kind of value, defaults that proto3 leaves out and a oneof
//! does not, lengths past one varint byte, and several scopes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId,
    TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use otlp_csp_telemetry::span_wire::{Mutant, SpanEncoder};
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

/// The SDK's bytes for `spans` under `resource`.
fn sdk_bytes(spans: &[SpanData], resource: &Resource) -> Vec<u8> {
    let resource = ResourceAttributesWithSchema::from(resource);
    let resource_spans =
        group_spans_by_resource_and_scope(spans.to_vec(), &resource);
    ExportTraceServiceRequest { resource_spans }.encode_to_vec()
}

fn book_bytes(encoder: &SpanEncoder, spans: &[SpanData]) -> Vec<u8> {
    let mut out = Vec::new();
    encoder.encode(spans, &mut out);
    out
}

fn text() -> impl Strategy<Value = String> {
    // Empty, short, and long enough that its field's length takes two
    // varint bytes; non-ASCII included.
    prop_oneof![Just(String::new()), "[a-z.é]{1,12}", "[ -~]{120,200}"]
}

fn value() -> impl Strategy<Value = Value> {
    let int = prop_oneof![Just(0i64), Just(-1i64), any::<i64>()];
    let float = prop_oneof![Just(0.0f64), any::<f64>()];
    let strings = vec(text().prop_map(StringValue::from), 0..3);
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        int.clone().prop_map(Value::I64),
        float.clone().prop_map(Value::F64),
        text().prop_map(Value::from),
        vec(any::<bool>(), 0..3).prop_map(|v| Value::Array(Array::Bool(v))),
        vec(int, 0..3).prop_map(|v| Value::Array(Array::I64(v))),
        vec(float, 0..3).prop_map(|v| Value::Array(Array::F64(v))),
        strings.prop_map(|v| Value::Array(Array::String(v))),
    ]
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(
        (text(), value()).prop_map(|(k, v)| KeyValue::new(k, v)),
        0..4,
    )
}

fn time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        Just(UNIX_EPOCH),
        // Before the epoch: the SDK sends 0.
        (1u64..1 << 40).prop_map(|n| UNIX_EPOCH - Duration::from_nanos(n)),
        any::<u64>().prop_map(|n| UNIX_EPOCH + Duration::from_nanos(n)),
    ]
}

fn context() -> impl Strategy<Value = SpanContext> {
    let state = prop_oneof![
        Just(TraceState::NONE),
        Just(
            TraceState::from_key_value([("vendor", "x1"), ("other", "y")]).unwrap()
        ),
    ];
    (
        any::<u128>(),
        any::<u64>(),
        any::<u8>(),
        any::<bool>(),
        state,
    )
        .prop_map(|(t, s, f, remote, state)| {
            let (t, s) = (TraceId::from(t.max(1)), SpanId::from(s.max(1)));
            SpanContext::new(t, s, TraceFlags::new(f), remote, state)
        })
}

fn scope() -> impl Strategy<Value = InstrumentationScope> {
    let version = prop_oneof![Just(None), Just(Some("1.2.3"))];
    let schema = prop_oneof![
        Just(None),
        Just(Some("https://opentelemetry.io/schemas/1.36.0"))
    ];
    (
        prop_oneof![Just("a"), Just("b"), Just("")],
        version,
        schema,
        attributes(),
    )
        .prop_map(|(name, version, schema, attributes)| {
            let mut b =
                InstrumentationScope::builder(name).with_attributes(attributes);
            if let Some(v) = version {
                b = b.with_version(v);
            }
            if let Some(s) = schema {
                b = b.with_schema_url(s);
            }
            b.build()
        })
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Unset),
        Just(Status::Ok),
        text().prop_map(Status::error),
    ]
}

fn kind() -> impl Strategy<Value = SpanKind> {
    prop_oneof![
        Just(SpanKind::Internal),
        Just(SpanKind::Server),
        Just(SpanKind::Client),
        Just(SpanKind::Producer),
        Just(SpanKind::Consumer),
    ]
}

prop_compose! {
    fn event()(name in text(), at in time(), attributes in attributes(), dropped in 0u32..3) -> Event {
        Event::new(name, at, attributes, dropped)
    }
}

prop_compose! {
    fn link()(cx in context(), attributes in attributes(), dropped in 0u32..3) -> Link {
        Link::new(cx, attributes, dropped)
    }
}

prop_compose! {
    fn span(scopes: Vec<InstrumentationScope>)(
        cx in context(),
        parent in prop_oneof![Just(0u64), any::<u64>()],
        parent_remote in any::<bool>(),
        kind in kind(),
        name in text(),
        (start, end) in (time(), time()),
        attributes in attributes(),
        dropped in 0u32..3,
        (events, dropped_events) in (vec(event(), 0..3), 0u32..3),
        (links, dropped_links) in (vec(link(), 0..3), 0u32..3),
        status in status(),
        scope in 0..scopes.len(),
    ) -> SpanData {
        let mut e = SpanEvents::default();
        e.events = events;
        e.dropped_count = dropped_events;
        let mut l = SpanLinks::default();
        l.links = links;
        l.dropped_count = dropped_links;
        SpanData {
            span_context: cx,
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: parent_remote,
            span_kind: kind,
            name: name.into(),
            start_time: start,
            end_time: end,
            attributes,
            dropped_attributes_count: dropped,
            events: e,
            links: l,
            status,
            instrumentation_scope: scopes[scope].clone(),
        }
    }
}

fn batch() -> impl Strategy<Value = Vec<SpanData>> {
    vec(scope(), 1..4).prop_flat_map(|scopes| vec(span(scopes), 0..6))
}

fn resource() -> impl Strategy<Value = Resource> {
    let schema = prop_oneof![
        Just(None),
        Just(Some("https://opentelemetry.io/schemas/1.36.0"))
    ];
    (attributes(), schema).prop_map(|(attributes, schema)| match schema {
        Some(url) => Resource::builder_empty()
            .with_schema_url(attributes, url)
            .build(),
        None => Resource::builder_empty()
            .with_attributes(attributes)
            .build(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_book_writes_the_sdks_bytes(spans in batch(), resource in resource()) {
        let encoder = SpanEncoder::new(&resource);
        prop_assert_eq!(book_bytes(&encoder, &spans), sdk_bytes(&spans, &resource));
    }
}

/// A span whose parent came over the wire, one link, one of each value.
fn remote_child() -> SpanData {
    let cx = |t: u128, s: u64| {
        SpanContext::new(
            TraceId::from(t),
            SpanId::from(s),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        )
    };
    let mut links = SpanLinks::default();
    links
        .links
        .push(Link::new(cx(7, 8), vec![KeyValue::new("n", 0)], 0));
    SpanData {
        span_context: cx(1, 2),
        parent_span_id: SpanId::from(3),
        parent_span_is_remote: true,
        span_kind: SpanKind::Server,
        name: "GET /hello".into(),
        start_time: UNIX_EPOCH + Duration::from_secs(1),
        end_time: UNIX_EPOCH + Duration::from_secs(2),
        attributes: vec![KeyValue::new("http.route", "/hello")],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links,
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("t").build(),
    }
}

#[test]
fn a_batch_as_large_as_the_load_runs_export_matches() {
    // 2048 spans, as chapter 21 exports them: lengths of three varint bytes.
    let resource = Resource::builder().with_service_name("ch21-target").build();
    let spans = vec![remote_child(); 2048];
    let encoder = SpanEncoder::new(&resource);
    let bytes = book_bytes(&encoder, &spans);
    assert!(bytes.len() > 1 << 14, "{} bytes", bytes.len());
    assert_eq!(bytes, sdk_bytes(&spans, &resource));
}

#[test]
fn the_check_rejects_an_encoder_that_forgets_the_remote_bits() {
    let resource = Resource::builder_empty().build();
    let spans = [remote_child()];
    let planted =
        SpanEncoder::new(&resource).with_planted_bug(Mutant::ForgetsRemoteBits);
    assert_ne!(book_bytes(&planted, &spans), sdk_bytes(&spans, &resource));
    // And the bytes are still a request prost reads: the check compares
    // what the fields say, not whether they parse.
    let decoded =
        ExportTraceServiceRequest::decode(&*book_bytes(&planted, &spans)).unwrap();
    let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.flags, 1, "the W3C flags alone");
}
