//! The conformance table of chapter 10: one case per sentence of W3C Trace
//! Context Level 2 (Candidate Recommendation Draft, 28 March 2024, "TC2") and
//! W3C Baggage ("BAG"), each run through the book's propagators and through the
//! SDK's (`TraceContextPropagator`, `BaggagePropagator` with
//! `opentelemetry_http::HeaderExtractor`, which is what a new user writes).
//!
//! A case is a request's headers. The propagator extracts a context from them
//! and injects that context into a fresh header map, as a service forwarding
//! the request would; the case names what the spec says must come out.
//! The test asserts that the book's propagators pass every case (bar the
//! documented gaps) and that the SDK does what the `sdk` column says, so the
//! table printed in the chapter stays true.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use otlp_csp_telemetry::propagation::{
    HeaderCarrier, HeaderCarrierMut, RandomIds, W3cBaggage, W3cTraceContext,
    context_with_span, parse_baggage,
};

const TID: &str = "12345678901234567890123456789012";
const PID: &str = "1234567890123456";

fn tp(flags: &str) -> String {
    format!("00-{TID}-{PID}-{flags}")
}

/// What a propagator did with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Observed {
    traceparent: Option<String>,
    tracestate: Option<String>,
    /// Extracted baggage, sorted: (key, value, properties).
    baggage: Vec<(String, String, String)>,
    /// The outgoing `baggage` header, read back by a strict parser: the
    /// members, or `None` when it breaks the grammar.
    baggage_forwarded: Option<Vec<(String, String, String)>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Expect {
    traceparent: Option<String>,
    /// Acceptable outgoing `tracestate` values (an empty one counts as none).
    tracestate: Vec<Option<String>>,
    /// Acceptable extracted baggage (each list sorted by key).
    baggage: Vec<Vec<(String, String, String)>>,
}

enum Sdk {
    Passes,
    Fails,
}

struct Case {
    id: &'static str,
    section: &'static str,
    rule: &'static str,
    headers: Vec<(&'static str, Vec<u8>)>,
    expect: Expect,
    sdk: Sdk,
    /// Where the book's propagator knowingly falls short, and why.
    gap: Option<&'static str>,
}

fn h(name: &'static str, value: impl Into<String>) -> (&'static str, Vec<u8>) {
    (name, value.into().into_bytes())
}

/// Continue the trace: the request's traceparent (with these outgoing flags)
/// and this tracestate come out.
fn cont(flags: &str, tracestate: Option<&str>) -> Expect {
    Expect {
        traceparent: Some(tp(flags)),
        tracestate: vec![tracestate.map(str::to_owned)],
        baggage: vec![vec![]],
    }
}

/// Start a new trace: nothing to forward.
fn new_trace() -> Expect {
    Expect {
        traceparent: None,
        tracestate: vec![None],
        baggage: vec![vec![]],
    }
}

fn bag(members: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = members
        .iter()
        .map(|(k, v, p)| (k.to_string(), v.to_string(), p.to_string()))
        .collect();
    v.sort();
    v
}

fn baggage_only(acceptable: Vec<Vec<(String, String, String)>>) -> Expect {
    Expect {
        traceparent: None,
        tracestate: vec![None],
        baggage: acceptable,
    }
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    use Sdk::{Fails, Passes};
    let tp_with =
        |s: &str| h("traceparent", s.replace("TID", TID).replace("PID", PID));
    let mut c = vec![
        // ---------------------------------------------------------- traceparent
        Case {
            id: "tp-valid",
            section: "TC2 §3.2.2",
            rule: "a valid traceparent is continued",
            headers: vec![h("traceparent", tp("01"))],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-name-case",
            section: "TC2 §3.2.1",
            rule: "the header name is matched in any case",
            headers: vec![h("TraceParent", tp("01"))],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-ows",
            section: "TC2 §3.2 + RFC 9110 §5.5",
            rule: "whitespace around the field value is not part of it",
            headers: vec![h("traceparent", format!("\t {} \t", tp("01")))],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-two-fields",
            section: "TC2 §3.2.2 + RFC 9110 §5.3",
            rule: "two traceparent fields combine into a value the grammar rejects: new trace",
            headers: vec![
                h("traceparent", format!("00-{TID}-{PID}-01")),
                h(
                    "traceparent",
                    "00-12345678901234567890123456789011-1234567890123456-01",
                ),
            ],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-version-ff",
            section: "TC2 §3.2.2.1",
            rule: "version ff is invalid",
            headers: vec![tp_with("ff-TID-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-version-3-digits",
            section: "TC2 §3.2.2.1",
            rule: "version = 2HEXDIGLC",
            headers: vec![tp_with("000-TID-PID-01")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-version-1-digit",
            section: "TC2 §3.2.2.1",
            rule: "version = 2HEXDIGLC",
            headers: vec![tp_with("0-TID-PID-01")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-version-not-hex",
            section: "TC2 §3.2.4",
            rule: "a version prefix that is not 2 hex digits and a dash restarts the trace",
            headers: vec![tp_with(".0-TID-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-v00-extra-field",
            section: "TC2 §3.2.2.2",
            rule: "version 00 has exactly four fields",
            headers: vec![tp_with("00-TID-PID-01-what-the-future-will-be-like")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-v00-trailing-dot",
            section: "TC2 §3.2.2.2",
            rule: "version 00 has exactly four fields",
            headers: vec![tp_with("00-TID-PID-01.")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-trace-id-zero",
            section: "TC2 §3.2.2.3",
            rule: "an all-zero trace-id is invalid: ignore the traceparent",
            headers: vec![tp_with("00-00000000000000000000000000000000-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-trace-id-uppercase",
            section: "TC2 §3.2.2.3",
            rule: "trace-id = 32HEXDIGLC (lowercase only)",
            headers: vec![tp_with("00-ABCDEF78901234567890123456789012-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-trace-id-31",
            section: "TC2 §3.2.2.3",
            rule: "trace-id = 32HEXDIGLC",
            headers: vec![tp_with("00-1234567890123456789012345678901-PID-01")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-trace-id-33",
            section: "TC2 §3.2.2.3",
            rule: "trace-id = 32HEXDIGLC",
            headers: vec![tp_with("00-123456789012345678901234567890123-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-trace-id-not-hex",
            section: "TC2 §3.2.2.3",
            rule: "a trace-id with other characters is invalid",
            headers: vec![tp_with("00-.2345678901234567890123456789012-PID-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-parent-id-zero",
            section: "TC2 §3.2.2.4",
            rule: "an all-zero parent-id is invalid: ignore the traceparent",
            headers: vec![tp_with("00-TID-0000000000000000-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-parent-id-15",
            section: "TC2 §3.2.2.4",
            rule: "parent-id = 16HEXDIGLC",
            headers: vec![tp_with("00-TID-123456789012345-01")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-parent-id-17",
            section: "TC2 §3.2.2.4",
            rule: "parent-id = 16HEXDIGLC",
            headers: vec![tp_with("00-TID-12345678901234567-01")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-flags-3-digits",
            section: "TC2 §3.2.2.5",
            rule: "trace-flags = 2HEXDIGLC",
            headers: vec![tp_with("00-TID-PID-001")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-flags-1-digit",
            section: "TC2 §3.2.2.5",
            rule: "trace-flags = 2HEXDIGLC",
            headers: vec![tp_with("00-TID-PID-1")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-flags-not-hex",
            section: "TC2 §3.2.2.5",
            rule: "trace-flags = 2HEXDIGLC",
            headers: vec![tp_with("00-TID-PID-.0")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-random-flag",
            section: "TC2 §3.2.2.5.2",
            rule: "Level 2: a random flag set on the way in MUST be set on the way out",
            headers: vec![h("traceparent", tp("03"))],
            expect: cont("03", None),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-random-unsampled",
            section: "TC2 §3.2.2.5.2",
            rule: "Level 2: a random flag set on the way in MUST be set on the way out",
            headers: vec![h("traceparent", tp("02"))],
            expect: cont("02", None),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "tp-unknown-flags",
            section: "TC2 §3.2.2.5.3",
            rule: "flags this version does not define are set to zero",
            headers: vec![h("traceparent", tp("09"))],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-future-version",
            section: "TC2 §3.2.4",
            rule: "a higher version is parsed by the 00 rules and forwarded as 00",
            headers: vec![tp_with("cc-TID-PID-01")],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-future-version-fields",
            section: "TC2 §3.2.4",
            rule: "a higher version may carry more fields after a dash",
            headers: vec![tp_with("cc-TID-PID-01-what-the-future-will-be-like")],
            expect: cont("01", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-future-version-no-dash",
            section: "TC2 §3.2.4",
            rule: "the flags must be at the end or followed by a dash",
            headers: vec![tp_with("cc-TID-PID-01.what-the-future-will-be-like")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "tp-future-version-short",
            section: "TC2 §3.2.4",
            rule: "a higher version shorter than 55 characters restarts the trace",
            headers: vec![tp_with("cc-TID-PID-1")],
            expect: new_trace(),
            sdk: Fails,
            gap: None,
        },
        // ----------------------------------------------------------- tracestate
        Case {
            id: "ts-invalid-traceparent",
            section: "TC2 §3.3",
            rule: "if traceparent fails to parse, tracestate MUST NOT be parsed",
            headers: vec![
                tp_with("00-00000000000000000000000000000000-PID-01"),
                h("tracestate", "foo=1"),
            ],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-no-traceparent",
            section: "TC2 §3.3",
            rule: "tracestate without traceparent is ignored",
            headers: vec![h("tracestate", "foo=1")],
            expect: new_trace(),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-kept",
            section: "TC2 §3.5",
            rule: "a received tracestate MUST be sent on",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo=1,bar=2"),
            ],
            expect: cont("00", Some("foo=1,bar=2")),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-three-fields",
            section: "TC2 §3.3.2",
            rule: "multiple tracestate fields MUST be combined (RFC 9110 §5.3)",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo=1,bar=2"),
                h("tracestate", "rojo=1,congo=2"),
                h("tracestate", "baz=3"),
            ],
            expect: cont("00", Some("foo=1,bar=2,rojo=1,congo=2,baz=3")),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-empty-field",
            section: "TC2 §3.3.2",
            rule: "vendors MUST accept empty tracestate headers",
            headers: vec![h("traceparent", tp("00")), h("tracestate", "")],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-empty-then-value",
            section: "TC2 §3.3.2",
            rule: "an empty field combines with the others",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", ""),
                h("tracestate", "foo=1"),
            ],
            expect: cont("00", Some("foo=1")),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-ows",
            section: "TC2 §3.3.2",
            rule: "spaces and tabs around list-members are ignored",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo=1 \t , \t bar=2, \t baz=3"),
            ],
            expect: cont("00", Some("foo=1,bar=2,baz=3")),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-32-members",
            section: "TC2 §3.3.2",
            rule: "there can be a maximum of 32 list-members",
            headers: vec![h("traceparent", tp("00")), h("tracestate", members(32))],
            expect: cont("00", Some(&members(32))),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-33-members",
            section: "TC2 §3.3.2",
            rule: "33 list-members is not a valid list: discard it",
            headers: vec![h("traceparent", tp("00")), h("tracestate", members(33))],
            expect: cont("00", None),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-key-space",
            section: "TC2 §3.3.2.2.1",
            rule: "keychar excludes spaces",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo =1,bar=2"),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-uppercase",
            section: "TC2 §3.3.2.2.1",
            rule: "keys are lowercase",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "FOO=1,bar=2"),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-dot",
            section: "TC2 §3.3.2.2.1",
            rule: "keychar excludes '.'",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo.bar=1,bar=2"),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-256",
            section: "TC2 §3.3.2.2.1",
            rule: "a key has up to 256 characters",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", format!("foo=1,{}=1", "z".repeat(256))),
            ],
            expect: cont("00", Some(&format!("foo=1,{}=1", "z".repeat(256)))),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-257",
            section: "TC2 §3.3.2.2.1",
            rule: "a key has up to 256 characters",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", format!("foo=1,{}=1", "z".repeat(257))),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-at-first",
            section: "TC2 §3.3.2.2.1",
            rule: "a key begins with a lowercase letter or a digit",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "@foo=1,bar=2"),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-at-last",
            section: "TC2 §3.3.2.2.1",
            rule: "Level 2: '@' is a keychar like any other",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo@=1,bar=2"),
            ],
            expect: cont("00", Some("foo@=1,bar=2")),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-key-two-ats",
            section: "TC2 §3.3.2.2.1",
            rule: "Level 2: a key may hold several '@'",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo@bar@baz=1,bar=2"),
            ],
            expect: cont("00", Some("foo@bar@baz=1,bar=2")),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-key-long-vendor",
            section: "TC2 §3.3.2.2.1",
            rule: "Level 2: no separate limit after '@'",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", format!("t@{}=1,bar=2", "v".repeat(15))),
            ],
            expect: cont("00", Some(&format!("t@{}=1,bar=2", "v".repeat(15)))),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-key-vendor-14",
            section: "TC2 §3.3.2.2.1",
            rule: "14 characters after '@' are allowed by both levels",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", format!("t@{}=1,bar=2", "v".repeat(14))),
            ],
            expect: cont("00", Some(&format!("t@{}=1,bar=2", "v".repeat(14)))),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-key-digit-first",
            section: "TC2 §3.3.2.2.1",
            rule: "Level 2: a key without '@' may begin with a digit",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "1foo=1,bar=2"),
            ],
            expect: cont("00", Some("1foo=1,bar=2")),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-value-equals",
            section: "TC2 §3.3.2.2.2",
            rule: "a value excludes '='",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo=bar=baz"),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-value-empty",
            section: "TC2 §3.3.2.2.2",
            rule: "a value has at least one non-space character",
            headers: vec![h("traceparent", tp("00")), h("tracestate", "foo=,bar=3")],
            expect: cont("00", None),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-value-tab",
            section: "TC2 §3.3.2.2.2",
            rule: "a value excludes tabs",
            headers: vec![h("traceparent", tp("00")), h("tracestate", "foo=a\tb")],
            expect: cont("00", None),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-value-257",
            section: "TC2 §3.3.2.2.2",
            rule: "a value has up to 256 characters",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", format!("foo={}", "v".repeat(257))),
            ],
            expect: cont("00", None),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-value-leading-space",
            section: "TC2 §3.3.2.2.2",
            rule: "leading spaces MUST be preserved",
            headers: vec![h("traceparent", tp("00")), h("tracestate", "foo= bar")],
            expect: cont("00", Some("foo= bar")),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-all-characters",
            section: "TC2 §3.3.2.2",
            rule: "every allowed key and value character is kept",
            headers: vec![h("traceparent", tp("00")), h("tracestate", all_chars())],
            expect: cont("00", Some(&all_chars())),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "ts-duplicate-key",
            section: "TC2 §3.3.3",
            rule: "only one entry per key is allowed",
            headers: vec![
                h("traceparent", tp("00")),
                h("tracestate", "foo=1,foo=2"),
            ],
            expect: cont("00", Some("foo=1")),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "ts-truncation",
            section: "TC2 §3.3.3.1",
            rule: "truncate whole entries, entries over 128 characters first",
            headers: vec![h("traceparent", tp("00")), h("tracestate", long_list())],
            expect: Expect {
                tracestate: vec![Some(long_list_truncated()), Some(long_list())],
                ..cont("00", None)
            },
            sdk: Passes,
            gap: None,
        },
        // -------------------------------------------------------------- baggage
        Case {
            id: "bg-spec-example",
            section: "BAG §Example",
            rule: "members, OWS and properties",
            headers: vec![h(
                "baggage",
                "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
            )],
            expect: baggage_only(vec![bag(&[
                ("key1", "value1", "property1;property2"),
                ("key2", "value2", ""),
                ("key3", "value3", "propertyKey=propertyValue"),
            ])]),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "bg-two-fields",
            section: "BAG §Header Format",
            rule: "multiple baggage headers are allowed and combine",
            headers: vec![
                h("baggage", "userId=alice"),
                h("baggage", "serverNode=DF%2028,isProduction=false"),
            ],
            expect: baggage_only(vec![bag(&[
                ("userId", "alice", ""),
                ("serverNode", "DF 28", ""),
                ("isProduction", "false", ""),
            ])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-percent-decoding",
            section: "BAG §value",
            rule: "a value is percent-encoded UTF-8",
            headers: vec![h("baggage", "serverNode=DF%2028,name=na%C3%AFve")],
            expect: baggage_only(vec![bag(&[
                ("serverNode", "DF 28", ""),
                ("name", "naïve", ""),
            ])]),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "bg-value-equals",
            section: "BAG §value",
            rule: "parsers MUST NOT assume '=' only separates key and value",
            headers: vec![h("baggage", "k=a=b")],
            expect: baggage_only(vec![bag(&[("k", "a=b", "")])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-bad-utf8",
            section: "BAG §value",
            rule: "octets that are not UTF-8 MUST become U+FFFD",
            headers: vec![h("baggage", "k=%FF,j=1")],
            expect: baggage_only(vec![bag(&[
                ("k", "\u{FFFD}", ""),
                ("j", "1", ""),
            ])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-key-not-token",
            section: "BAG §key",
            rule: "a key is a token; a bad member MAY be removed",
            headers: vec![h("baggage", "a b=1,c=2")],
            expect: baggage_only(vec![bag(&[("c", "2", "")])]),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "bg-value-dquote",
            section: "BAG §Definition",
            rule: "baggage-octet excludes DQUOTE; a bad member MAY be removed",
            headers: vec![h("baggage", "k=\"x\",c=2")],
            expect: baggage_only(vec![bag(&[("c", "2", "")])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-65-members",
            section: "BAG §Limits",
            rule: "propagate at least 64 members, drop whole members past the limit",
            headers: vec![h(
                "baggage",
                (0..65)
                    .map(|i| format!("k{i:02}=v"))
                    .collect::<Vec<_>>()
                    .join(","),
            )],
            expect: baggage_only(vec![
                (0..64)
                    .map(|i| (format!("k{i:02}"), "v".to_owned(), String::new()))
                    .collect(),
            ]),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "bg-over-8192-bytes",
            section: "BAG §Limits",
            rule: "propagate at least 8192 bytes, never a partial member",
            headers: vec![h(
                "baggage",
                format!(
                    "a={},b={},c={}",
                    "x".repeat(3000),
                    "y".repeat(3000),
                    "z".repeat(3000)
                ),
            )],
            expect: baggage_only(vec![
                bag(&[("a", &"x".repeat(3000), ""), ("b", &"y".repeat(3000), "")]),
                vec![],
            ]),
            sdk: Passes,
            gap: None,
        },
        Case {
            id: "bg-forward-backslash",
            section: "BAG §value",
            rule: "characters outside baggage-octet MUST be percent-encoded on the way out",
            headers: vec![h("baggage", "k=a%5Cb")],
            expect: baggage_only(vec![bag(&[("k", "a\\b", "")])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-forward-percent",
            section: "BAG §value",
            rule: "a decoded '%' is encoded again on the way out",
            headers: vec![h("baggage", "k=%2541")],
            expect: baggage_only(vec![bag(&[("k", "%41", "")])]),
            sdk: Fails,
            gap: None,
        },
        Case {
            id: "bg-property-ows",
            section: "BAG §property",
            rule: "OWS in properties MUST be trimmed",
            headers: vec![h("baggage", "k=v; p = q ;r")],
            expect: baggage_only(vec![bag(&[("k", "v", "p=q;r")])]),
            sdk: Fails,
            gap: None,
        },
    ];
    // A value that is not ASCII can only come in as raw bytes.
    c.push(Case {
        id: "ts-not-ascii",
        section: "TC2 §3.3.2.2.2",
        rule: "a corrupt field is not silently skipped",
        headers: vec![
            h("traceparent", tp("00")),
            h("tracestate", "foo=1"),
            ("tracestate", b"bar=caf\xc3\xa9".to_vec()),
        ],
        expect: cont("00", None),
        sdk: Fails,
        gap: None,
    });
    c
}

/// A case that crosses a server span: extract, a span started by the SDK's
/// tracer under the extracted context (its sampler keeps or drops it),
/// inject. The book's side is the set-up's: `RandomIds` as the id generator
/// and `context_with_span` for the span's context; the SDK's side is a
/// default provider and `parent.with_span(span)`.
struct HopCase {
    id: &'static str,
    section: &'static str,
    rule: &'static str,
    /// The incoming flags; `None`: no `traceparent`, so the span begins a trace.
    flags_in: Option<&'static str>,
    /// Whether the sampler keeps the server span.
    kept: bool,
    /// The flags the rule asks for on the way out.
    flags_out: &'static str,
    sdk: Sdk,
}

fn hop_cases() -> Vec<HopCase> {
    use Sdk::{Fails, Passes};
    let random =
        "Level 2: a random flag set on the way in MUST be set on the way out";
    let unset = "a random flag unset on the way in MUST stay unset";
    let new = "Level 2: a trace-id generated randomly SHOULD carry the random flag";
    let case = |id, flags_in: Option<&'static str>, kept, flags_out, sdk| HopCase {
        id,
        section: if flags_in.is_some() {
            "TC2 §3.2.2.5.2"
        } else {
            "TC2 §3.2.2.3"
        },
        rule: match flags_in {
            None => new,
            Some("03" | "02") => random,
            Some(_) => unset,
        },
        flags_in,
        kept,
        flags_out,
        sdk,
    };
    vec![
        case("hop-random-kept", Some("03"), true, "03", Fails),
        case("hop-random-dropped", Some("03"), false, "02", Fails),
        case("hop-random-unsampled", Some("02"), false, "02", Fails),
        case("hop-not-random-kept", Some("01"), true, "01", Passes),
        case("hop-not-random-dropped", Some("01"), false, "00", Passes),
        case("hop-new-trace", None, true, "03", Fails),
        case("hop-new-trace-dropped", None, false, "02", Fails),
    ]
}

/// What W3C Trace Context Level 1 (a W3C Recommendation, 23 November 2021)
/// asks where it differs from TC2. Level 1 defines one flag, `sampled`, and
/// says the others are set to zero (§3.2.2.5), so it has no random flag; its
/// `tracestate` key is `simple-key` (a lowercase letter first) or
/// `tenant-id@system-id` (one '@', then 1 to 14 characters, a letter first),
/// and a list member it cannot parse may be dropped, or the whole list.
enum Level1Asks {
    /// A request case: what must come out instead.
    Request(Expect),
    /// A hop case: the flags on the way out instead.
    Hop(&'static str),
}

struct Level1 {
    id: &'static str,
    asks: Level1Asks,
    /// Whether the SDK does what Level 1 asks.
    sdk: Sdk,
}

/// The list, or the list without its bad member: both allowed by Level 1.
fn dropped_by_level1(rest: &str) -> Level1Asks {
    Level1Asks::Request(Expect {
        traceparent: Some(tp("00")),
        tracestate: vec![None, Some(rest.to_owned())],
        baggage: vec![vec![]],
    })
}

/// The rows whose rule is new in Level 2 (their rule says "Level 2:").
fn level1_differs() -> Vec<Level1> {
    use Level1Asks::{Hop, Request};
    use Sdk::{Fails, Passes};
    let row = |id, asks, sdk| Level1 { id, asks, sdk };
    vec![
        row("tp-random-flag", Request(cont("01", None)), Passes),
        row("tp-random-unsampled", Request(cont("00", None)), Passes),
        row("ts-key-at-last", dropped_by_level1("bar=2"), Fails),
        row("ts-key-two-ats", dropped_by_level1("bar=2"), Passes),
        row("ts-key-long-vendor", dropped_by_level1("bar=2"), Passes),
        row("ts-key-digit-first", dropped_by_level1("bar=2"), Fails),
        row("hop-random-kept", Hop("01"), Passes),
        row("hop-random-dropped", Hop("00"), Passes),
        row("hop-random-unsampled", Hop("00"), Passes),
        row("hop-new-trace", Hop("01"), Passes),
        row("hop-new-trace-dropped", Hop("00"), Passes),
    ]
}

/// What is wrong with the "Level 2 only" labels: a label on a rule that
/// does not say "Level 2:", a "Level 2:" rule without one, or a label whose
/// Level 1 answer is the Level 2 one (then the row is not Level 2 only).
fn level_label_problems(
    cases: &[Case],
    hops: &[HopCase],
    level1: &[Level1],
) -> Vec<String> {
    let mut problems = Vec::new();
    let rules = cases
        .iter()
        .map(|c| (c.id, c.rule))
        .chain(hops.iter().map(|c| (c.id, c.rule)));
    for (id, rule) in rules {
        let labelled = level1.iter().any(|l| l.id == id);
        if labelled != rule.starts_with("Level 2:") {
            problems.push(format!("{id}: label and rule disagree: {rule}"));
        }
    }
    for l in level1 {
        let same = match &l.asks {
            Level1Asks::Request(e) => {
                cases.iter().find(|c| c.id == l.id).map(|c| c.expect == *e)
            }
            Level1Asks::Hop(f) => hops
                .iter()
                .find(|c| c.id == l.id)
                .map(|c| c.flags_out == *f),
        };
        match same {
            None => problems.push(format!("{}: no such case", l.id)),
            Some(true) => problems.push(format!("{}: Level 1 asks the same", l.id)),
            Some(false) => {}
        }
    }
    problems
}

/// One request through a server span; the `traceparent` sent on.
fn observe_hop(case: &HopCase, book: bool) -> Option<String> {
    let sampler = if case.kept {
        Sampler::AlwaysOn
    } else {
        Sampler::AlwaysOff
    };
    let mut builder = SdkTracerProvider::builder().with_sampler(sampler);
    if book {
        builder = builder.with_id_generator(RandomIds::default());
    }
    let tracer = builder.build().tracer("server");
    let map = match case.flags_in {
        Some(flags) => header_map(&[h("traceparent", tp(flags))]),
        None => HeaderMap::new(),
    };
    let mut out = HeaderMap::new();
    if book {
        let propagator = W3cTraceContext::new();
        let parent = propagator.extract(&HeaderCarrier(&map));
        let span = tracer.start_with_context("GET /work", &parent);
        let cx = context_with_span(&parent, span);
        propagator.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    } else {
        let propagator = TraceContextPropagator::new();
        let parent = propagator.extract(&HeaderExtractor(&map));
        let span = tracer.start_with_context("GET /work", &parent);
        let cx = parent.with_span(span);
        propagator.inject_context(&cx, &mut HeaderInjector(&mut out));
    }
    let traceparent = out.get("traceparent")?;
    Some(traceparent.to_str().unwrap().to_owned())
}

/// The flags are the rule's; the trace is the caller's (or, with no caller,
/// a new one); the parent is the server span, not the caller.
fn hop_passes(case: &HopCase, sent: Option<&str>) -> bool {
    hop_passes_with(case, case.flags_out, sent)
}

fn hop_passes_with(case: &HopCase, flags_out: &str, sent: Option<&str>) -> bool {
    sent.is_some_and(|tp| {
        tp.len() == 55
            && tp[53..] == *flags_out
            && (tp[3..35] == *TID) == case.flags_in.is_some()
            && tp[36..52] != *PID
    })
}

fn members(n: usize) -> String {
    (1..=n)
        .map(|i| format!("bar{i:02}={i:02}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn all_chars() -> String {
    let key: String = ('a'..='z')
        .chain('0'..='9')
        .chain("_-*/@".chars())
        .collect();
    let value: String = (0x20u8..=0x7e)
        .filter(|&c| c != b',' && c != b'=')
        .map(char::from)
        .collect();
    format!("{key}={value}")
}

fn long_list() -> String {
    let mut parts = vec![format!("big={}", "x".repeat(140))];
    parts.extend((0..20).map(|i| format!("k{i:02}={}", "y".repeat(20))));
    parts.join(",")
}

fn long_list_truncated() -> String {
    (0..20)
        .map(|i| format!("k{i:02}={}", "y".repeat(20)))
        .collect::<Vec<_>>()
        .join(",")
}

fn header_map(headers: &[(&'static str, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    map
}

fn observe(
    trace: &dyn TextMapPropagator,
    baggage: &dyn TextMapPropagator,
    extractor: &dyn Extractor,
) -> Observed {
    let cx = baggage.extract_with_context(
        &trace.extract_with_context(&Context::new(), extractor),
        extractor,
    );
    let mut out = HeaderMap::new();
    trace.inject_context(&cx, &mut HeaderInjector(&mut out));
    baggage.inject_context(&cx, &mut HeaderInjector(&mut out));
    let get = |name: &str| out.get(name).map(|v| v.to_str().unwrap().to_owned());
    let mut extracted: Vec<_> = cx
        .baggage()
        .iter()
        .map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_owned()))
        .collect();
    extracted.sort();
    let baggage_forwarded = get("baggage").and_then(|header| {
        let parsed = parse_baggage([header.as_str()]);
        (parsed.invalid == 0).then(|| {
            let mut m: Vec<_> = parsed
                .members
                .into_iter()
                .map(|m| (m.key, m.value, m.properties))
                .collect();
            m.sort();
            m
        })
    });
    Observed {
        traceparent: get("traceparent"),
        tracestate: get("tracestate").filter(|s| !s.is_empty()),
        baggage: extracted,
        baggage_forwarded,
    }
}

fn passes(expect: &Expect, seen: &Observed) -> bool {
    let forwarded_ok = match &seen.baggage_forwarded {
        // What goes out must read back as what came in.
        Some(members) => *members == seen.baggage,
        None => seen.baggage.is_empty(),
    };
    seen.traceparent == expect.traceparent
        && expect.tracestate.contains(&seen.tracestate)
        && expect.baggage.contains(&seen.baggage)
        && forwarded_ok
}

fn describe(seen: &Observed, trace_case: bool) -> String {
    let mut parts = Vec::new();
    match &seen.traceparent {
        _ if !trace_case => {}
        None => parts.push("new trace".to_owned()),
        Some(tp) if tp.len() == 55 => {
            parts.push(format!("continues, flags {}", &tp[53..]))
        }
        Some(tp) => parts.push(format!("traceparent {tp}")),
    }
    if let Some(ts) = &seen.tracestate {
        let short = if ts.len() > 40 {
            format!("{}… ({} chars)", &ts[..30], ts.len())
        } else {
            ts.clone()
        };
        parts.push(format!("tracestate {short}"));
    }
    if !seen.baggage.is_empty() {
        let keys: Vec<String> = seen
            .baggage
            .iter()
            .take(4)
            .map(|(k, v, _)| {
                let v: String = v.chars().take(8).collect();
                format!("{k}={v:?}")
            })
            .collect();
        let more = seen.baggage.len().saturating_sub(4);
        let tail = if more > 0 {
            format!(" +{more}")
        } else {
            String::new()
        };
        parts.push(format!("baggage {}{tail}", keys.join(" ")));
        if seen.baggage_forwarded.as_ref() != Some(&seen.baggage) {
            parts.push("forwards a different baggage".to_owned());
        }
    }
    parts.join("; ").replace('\t', "\\t")
}

/// What the table says about one case.
struct Row<'a> {
    id: &'static str,
    section: &'static str,
    gap: Option<&'static str>,
    sdk: &'a Sdk,
    level: UnderLevel1<'a>,
}

/// A row's standing under Trace Context Level 1.
enum UnderLevel1<'a> {
    /// A baggage row: W3C Baggage has no levels.
    Baggage,
    /// Both levels ask the same.
    Same,
    /// Level 2 only: whether the SDK does what Level 1 asks, and what the
    /// table says it does.
    Level2Only(bool, &'a Sdk),
}

/// The table so far, its counts, and what does not match it.
struct Tally {
    table: String,
    problems: Vec<String>,
    book_passed: usize,
    sdk_passed: usize,
    sdk_passed_level1: usize,
    level2_only: usize,
    gaps: usize,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            table: String::from(
                "case                       section                level  book  SDK   SDK·L1  what the SDK does instead\n",
            ),
            problems: Vec::new(),
            book_passed: 0,
            sdk_passed: 0,
            sdk_passed_level1: 0,
            level2_only: 0,
            gaps: 0,
        }
    }
}

impl Tally {
    /// One case: whether each propagator passed, what the book's did (for
    /// a failure) and what the SDK's did instead.
    fn add(&mut self, row: Row, book: (bool, String), sdk: (bool, String)) {
        let ((book_ok, book_seen), (sdk_ok, instead)) = (book, sdk);
        self.book_passed += usize::from(book_ok);
        self.sdk_passed += usize::from(sdk_ok);
        match (book_ok, row.gap) {
            (true, None) => {}
            (false, Some(_)) => self.gaps += 1,
            (false, None) => self
                .problems
                .push(format!("book fails {}: {book_seen}", row.id)),
            (true, Some(_)) => self
                .problems
                .push(format!("{} is marked as a gap but passes", row.id)),
        }
        let mut stale = |expected: &Sdk, ok: bool, level: &str| match (expected, ok)
        {
            (Sdk::Passes, true) | (Sdk::Fails, false) => {}
            _ => self.problems.push(format!(
                "the table is stale: SDK on {} now {} {level}: {instead}",
                row.id,
                if ok { "passes" } else { "fails" }
            )),
        };
        stale(row.sdk, sdk_ok, "Level 2");
        let sdk_l1_ok = match row.level {
            UnderLevel1::Level2Only(ok, expected) => {
                stale(expected, ok, "Level 1");
                self.level2_only += 1;
                ok
            }
            UnderLevel1::Same | UnderLevel1::Baggage => sdk_ok,
        };
        self.sdk_passed_level1 += usize::from(sdk_l1_ok);
        let mark = |ok: bool, gap: bool| {
            if ok {
                "pass"
            } else if gap {
                "gap*"
            } else {
                "FAIL"
            }
        };
        let (level, sdk_l1) = match row.level {
            UnderLevel1::Baggage => ("-", "-"),
            UnderLevel1::Same => ("1, 2", mark(sdk_l1_ok, false)),
            UnderLevel1::Level2Only(..) => ("2", mark(sdk_l1_ok, false)),
        };
        self.table.push_str(&format!(
            "{:<26} {:<22} {:<6} {:<5} {:<5} {:<7} {}\n",
            row.id,
            row.section
                .trim_start_matches("TC2 ")
                .trim_start_matches("BAG "),
            level,
            mark(book_ok, row.gap.is_some()),
            mark(sdk_ok, false),
            sdk_l1,
            instead
        ));
    }
}

#[test]
fn both_propagators_against_the_conformance_table() {
    let cases = cases();
    let book_trace = W3cTraceContext::new();
    let book_baggage = W3cBaggage::new();
    let sdk_trace = TraceContextPropagator::new();
    let sdk_baggage = BaggagePropagator::new();

    let hops = hop_cases();
    let level1 = level1_differs();
    let labels = level_label_problems(&cases, &hops, &level1);
    assert!(labels.is_empty(), "{}", labels.join("\n"));
    let level1_of = |id: &str| level1.iter().find(|l| l.id == id);

    let mut t = Tally::default();
    for case in &cases {
        let map = header_map(&case.headers);
        let book = observe(&book_trace, &book_baggage, &HeaderCarrier(&map));
        let sdk_seen = observe(&sdk_trace, &sdk_baggage, &HeaderExtractor(&map));
        let (book_ok, sdk_ok) =
            (passes(&case.expect, &book), passes(&case.expect, &sdk_seen));
        let level = match level1_of(case.id) {
            _ if case.id.starts_with("bg-") => UnderLevel1::Baggage,
            Some(Level1 {
                asks: Level1Asks::Request(asks),
                sdk,
                ..
            }) => UnderLevel1::Level2Only(passes(asks, &sdk_seen), sdk),
            _ => UnderLevel1::Same,
        };
        // What the SDK did, where it broke either level's rule.
        let instead = match level {
            _ if !sdk_ok => describe(&sdk_seen, !case.id.starts_with("bg-")),
            UnderLevel1::Level2Only(false, _) => describe(&sdk_seen, true),
            _ => String::new(),
        };
        let row = Row {
            id: case.id,
            section: case.section,
            gap: case.gap,
            sdk: &case.sdk,
            level,
        };
        t.add(row, (book_ok, format!("{book:?}")), (sdk_ok, instead));
    }
    for case in &hops {
        let book = observe_hop(case, true);
        let sdk = observe_hop(case, false);
        let book_ok = hop_passes(case, book.as_deref());
        let sdk_ok = hop_passes(case, sdk.as_deref());
        let instead = match &sdk {
            _ if sdk_ok => String::new(),
            Some(tp) if tp.len() == 55 => format!("sends flags {}", &tp[53..]),
            other => format!("sends {other:?}"),
        };
        let level = match level1_of(case.id) {
            Some(Level1 {
                asks: Level1Asks::Hop(flags),
                sdk: expected,
                ..
            }) => UnderLevel1::Level2Only(
                hop_passes_with(case, flags, sdk.as_deref()),
                expected,
            ),
            _ => UnderLevel1::Same,
        };
        let row = Row {
            id: case.id,
            section: case.section,
            gap: None,
            sdk: &case.sdk,
            level,
        };
        t.add(row, (book_ok, format!("{book:?}")), (sdk_ok, instead));
    }
    let Tally {
        mut table,
        problems,
        book_passed,
        sdk_passed,
        sdk_passed_level1,
        level2_only,
        gaps,
    } = t;
    for case in cases.iter().filter(|c| c.gap.is_some()) {
        table.push_str(&format!("* {}: {}\n", case.id, case.gap.unwrap()));
    }
    println!("{table}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let total = (cases.len() + hops.len()) as f64;
    book_results::record(
        "ch10_propagation",
        vec![
            book_results::Measurement::count(
                "ch10_propagation/cases",
                total,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/book_passed",
                book_passed as f64,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/book_gaps",
                gaps as f64,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/sdk_passed",
                sdk_passed as f64,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/sdk_passed_level1",
                sdk_passed_level1 as f64,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/level2_only",
                level2_only as f64,
                "cases",
            ),
            book_results::Measurement::count(
                "ch10_propagation/table",
                total,
                "cases",
            )
            .with_text(table),
        ],
    )
    .expect("record the conformance results");
}

#[test]
fn every_case_cites_a_section_and_has_a_unique_id() {
    let cases = cases();
    let hops = hop_cases();
    let mut ids: Vec<_> = cases.iter().map(|c| c.id).collect();
    ids.extend(hops.iter().map(|c| c.id));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cases.len() + hops.len());
    assert!(
        hops.iter()
            .all(|c| c.section.contains('§') && !c.rule.is_empty())
    );
    assert!(
        cases
            .iter()
            .all(|c| c.section.contains('§') && !c.rule.is_empty())
    );
}

#[test]
fn injection_uses_the_book_carrier_too() {
    // The book's own injector writes the same fields as opentelemetry-http's.
    let map = header_map(&[
        h("traceparent", tp("03")),
        h("tracestate", "foo=1"),
        h("baggage", "k=v"),
    ]);
    let trace = W3cTraceContext::new();
    let baggage = W3cBaggage::new();
    let cx = baggage.extract_with_context(
        &trace.extract(&HeaderCarrier(&map)),
        &HeaderCarrier(&map),
    );
    let mut out = HeaderMap::new();
    trace.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    baggage.inject_context(&cx, &mut HeaderCarrierMut(&mut out));
    assert_eq!(out.get("traceparent").unwrap(), tp("03").as_str());
    assert_eq!(out.get("tracestate").unwrap(), "foo=1");
    assert_eq!(out.get("baggage").unwrap(), "k=v");
}

#[test]
fn the_level_labels_are_checked() {
    let (cases, hops) = (cases(), hop_cases());
    assert!(level_label_problems(&cases, &hops, &level1_differs()).is_empty());
    // Planted: `tp-valid` labelled Level 2 only, with Level 2's own answer.
    let mut wrong = level1_differs();
    let valid = cases.iter().find(|c| c.id == "tp-valid").unwrap();
    wrong.push(Level1 {
        id: "tp-valid",
        asks: Level1Asks::Request(valid.expect.clone()),
        sdk: Sdk::Passes,
    });
    let problems = level_label_problems(&cases, &hops, &wrong);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("tp-valid: Level 1 asks the same"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("tp-valid: label and rule"))
    );
    // Planted: a Level 2 rule left unlabelled.
    let mut missing = level1_differs();
    missing.retain(|l| l.id != "hop-new-trace");
    let problems = level_label_problems(&cases, &hops, &missing);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("hop-new-trace: label and rule disagree"));
    // Planted: a Level 1 answer on a hop that is the Level 2 one.
    let mut same = level1_differs();
    same.iter_mut()
        .filter(|l| l.id == "hop-random-kept")
        .for_each(|l| l.asks = Level1Asks::Hop("03"));
    let problems = level_label_problems(&cases, &hops, &same);
    assert_eq!(problems, ["hop-random-kept: Level 1 asks the same"]);
}
