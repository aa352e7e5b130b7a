//! Properties of the book's W3C propagators: no input makes them panic, and
//! whatever they inject they extract again unchanged.

use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use otlp_csp_telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, W3cBaggage, W3cTraceContext, parse_baggage,
    parse_traceparent, parse_tracestate,
};
use proptest::prelude::*;

fn headers(fields: &[(&'static str, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, bytes) in fields {
        // Bytes HTTP itself refuses (CR, LF, NUL...) never reach a propagator.
        if let Ok(v) = HeaderValue::from_bytes(bytes) {
            map.append(*name, v);
        }
    }
    map
}

/// Strings that look almost like the real thing, so the fuzzing reaches deep.
fn near_traceparent() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F.-]{0,70}",
        "[0-9a-f]{2}-[0-9a-f]{30,34}-[0-9a-f]{14,18}-[0-9a-f]{1,3}(-[ -~]{0,10})?",
        any::<String>(),
    ]
}

fn near_list() -> impl Strategy<Value = String> {
    prop_oneof![
        "([a-z0-9@_*/ %=;,\t-]{0,12}){0,40}",
        "[ -~]{0,300}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn extraction_never_panics(
        tp in prop::collection::vec(prop_oneof![near_traceparent().prop_map(String::into_bytes), any::<Vec<u8>>()], 0..3),
        ts in prop::collection::vec(prop_oneof![near_list().prop_map(String::into_bytes), any::<Vec<u8>>()], 0..4),
        bg in prop::collection::vec(prop_oneof![near_list().prop_map(String::into_bytes), any::<Vec<u8>>()], 0..4),
    ) {
        let mut fields = Vec::new();
        fields.extend(tp.into_iter().map(|v| ("traceparent", v)));
        fields.extend(ts.into_iter().map(|v| ("tracestate", v)));
        fields.extend(bg.into_iter().map(|v| ("baggage", v)));
        let map = headers(&fields);
        let trace = W3cTraceContext::new();
        let baggage = W3cBaggage::new();
        let cx = baggage.extract_with_context(&trace.extract(&HeaderCarrier(&map)), &HeaderCarrier(&map));
        // Whatever came in, what goes out parses again.
        let mut out = HeaderMap::new();
        trace.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
        baggage.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
        if let Some(v) = out.get("traceparent") {
            prop_assert!(parse_traceparent(v.to_str().unwrap()).is_ok());
        }
        if let Some(v) = out.get("tracestate") {
            prop_assert!(parse_tracestate([v.to_str().unwrap()]).is_ok());
        }
        if let Some(v) = out.get("baggage") {
            prop_assert_eq!(parse_baggage([v.to_str().unwrap()]).invalid, 0);
        }
    }

    #[test]
    fn parsers_never_panic_on_any_text(s in any::<String>()) {
        let _ = parse_traceparent(&s);
        let _ = parse_tracestate([s.as_str(), s.as_str()]);
        let _ = parse_baggage([s.as_str()]);
    }

    #[test]
    fn inject_then_extract_is_the_identity(
        trace_id in 1u128..,
        span_id in 1u64..,
        flags in 0u8..4,
        state in prop::collection::btree_map("[a-z][a-z0-9_*/-]{0,8}", "[!-+\\--<>-~][ -+\\--<>-~]{0,6}[!-+\\--<>-~]", 0..8),
        // Short enough that 8 members, percent-encoded, stay under 8192 bytes.
        members in prop::collection::btree_map("[A-Za-z0-9!#$&'*+.^_`|~-]{1,10}", "\\PC{0,30}", 0..8),
        props in "(;[a-z]{1,5}(=[a-z0-9]{1,5})?){0,2}",
    ) {
        let state = TraceState::from_key_value(state.clone()).unwrap();
        let sc = SpanContext::new(TraceId::from(trace_id), SpanId::from(span_id), TraceFlags::new(flags), true, state);
        let kvs: Vec<KeyValueMetadata> = members
            .iter()
            .map(|(k, v)| KeyValueMetadata::new(k.clone(), v.clone(), props.trim_start_matches(';').to_owned()))
            .collect();
        let cx = Context::new().with_remote_span_context(sc.clone()).with_baggage(kvs);

        let trace = W3cTraceContext::new();
        let baggage = W3cBaggage::new();
        let mut map = HeaderMap::new();
        trace.inject_context(&cx, &mut HeaderCarrierMut(&mut map));
        baggage.inject_context(&cx, &mut HeaderCarrierMut(&mut map));
        let back = baggage.extract_with_context(&trace.extract(&HeaderCarrier(&map)), &HeaderCarrier(&map));

        prop_assert_eq!(back.span().span_context().clone(), sc);
        let mut want: Vec<_> = cx.baggage().iter().map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_owned())).collect();
        let mut got: Vec<_> = back.baggage().iter().map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_owned())).collect();
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
        prop_assert_eq!(trace.counters().snapshot(), Default::default());
        prop_assert_eq!(baggage.counters().snapshot(), Default::default());
    }

    /// Level 2 keys, including those `TraceState` cannot hold (several `@`, a
    /// long part after one), pass through extract and inject unchanged.
    #[test]
    fn a_valid_level_2_tracestate_is_forwarded_unchanged(
        entries in prop::collection::btree_map(
            prop_oneof!["[a-z0-9][a-z0-9_*/-]{0,20}", "[a-z0-9][a-z0-9_*/@-]{0,40}", "[a-z][a-z0-9]{0,5}@[a-z0-9]{14,30}"],
            "[!-+\\--<>-~]{1,10}",
            // At most 8 × 53 characters: under the 512 that would truncate.
            1..9,
        ),
    ) {
        let header = entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let mut map = HeaderMap::new();
        map.insert("traceparent", HeaderValue::from_static("00-12345678901234567890123456789012-1234567890123456-01"));
        map.insert("tracestate", HeaderValue::from_str(&header).unwrap());
        let trace = W3cTraceContext::new();
        let cx = trace.extract(&HeaderCarrier(&map));
        let mut out = HeaderMap::new();
        trace.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
        prop_assert_eq!(out.get("tracestate").map(|v| v.to_str().unwrap().to_owned()), Some(header));
        prop_assert_eq!(trace.counters().snapshot(), Default::default());
    }
}
