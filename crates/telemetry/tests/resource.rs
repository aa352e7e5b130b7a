//! The resource the book's set-up sends, read at the receiver: one
//! `service.instance.id` per process, the host and process attributes, the
//! operator's `OTEL_RESOURCE_ATTRIBUTES` winning over what was detected, no
//! command line, and the semantic-conventions schema URL.
//!
//! One test function, because it sets an environment variable and the tests
//! of one binary share the environment.

use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::SCHEMA_URL;
use otlp_csp_telemetry::resource::{mutants, resource};
use otlp_csp_telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;
use otlp_receiver::proto::common::v1::any_value::Value;

/// The resource as the receiver got it: its attributes (values as text)
/// and the schema URL of the request's resource spans.
async fn sent_resource() -> (Vec<(String, String)>, String) {
    let receiver = Receiver::start().await.expect("receiver");
    let config = TelemetryConfig::otlp(
        "checkout",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    );
    let telemetry = init_with(config).expect("init");
    drop(telemetry.provider().tracer("test").start("one"));
    telemetry.shutdown().await.expect("shutdown");
    let request = &receiver.traces()[0].request;
    let spans = &request.resource_spans[0];
    let attributes = spans.resource.clone().unwrap_or_default().attributes;
    let pairs = attributes
        .into_iter()
        .map(|kv| {
            let value = match kv.value.and_then(|v| v.value) {
                Some(Value::StringValue(s)) => s,
                Some(Value::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key, value)
        })
        .collect();
    receiver.shutdown().await;
    (pairs, spans.schema_url.clone())
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What the chapter says of a resource, as a check.
fn resource_problems(
    pairs: &[(String, String)],
    schema_url: &str,
    instance_id: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let pid = std::process::id().to_string();
    let want = [
        ("service.name", Some("checkout")),
        ("process.pid", Some(pid.as_str())),
        ("host.arch", None),
        ("host.name", None),
        ("os.type", Some("linux")),
        ("telemetry.sdk.name", Some("opentelemetry")),
    ];
    for (key, value) in want {
        match (get(pairs, key), value) {
            (None, _) => problems.push(format!("{key} missing")),
            (Some(got), Some(v)) if got != v => {
                problems.push(format!("{key}={got}, not {v}"))
            }
            _ => {}
        }
    }
    match (get(pairs, "service.instance.id"), instance_id) {
        (None, _) => problems.push("service.instance.id missing".into()),
        (Some(got), Some(set)) if got != set => problems
            .push(format!("service.instance.id={got}, not the one set: {set}")),
        // A UUID: 36 characters, dashes at 8, 13, 18 and 23.
        (Some(got), None) if got.len() != 36 || got.matches('-').count() != 4 => {
            problems.push(format!("service.instance.id={got} is not a UUID"))
        }
        _ => {}
    }
    if get(pairs, "process.command_args").is_some() {
        problems.push("process.command_args sent".into());
    }
    if schema_url != SCHEMA_URL {
        problems.push(format!("schema URL {schema_url:?}"));
    }
    problems
}

fn pairs_of(resource: &Resource) -> Vec<(String, String)> {
    resource
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resource_at_the_receiver() {
    // Detected: a UUID for this process, the same in every resource.
    let (pairs, schema_url) = sent_resource().await;
    assert_eq!(
        resource_problems(&pairs, &schema_url, None),
        Vec::<String>::new()
    );
    let id = get(&pairs, "service.instance.id").unwrap().to_owned();
    assert_eq!(
        get(&pairs_of(&resource("x")), "service.instance.id"),
        Some(&*id)
    );

    // Set by the operator: theirs wins over the detected one.
    // SAFETY: the only test in this binary; nothing else reads the
    // environment while it changes.
    unsafe {
        std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=pod-7")
    };
    let (pairs, schema_url) = sent_resource().await;
    assert_eq!(
        resource_problems(&pairs, &schema_url, Some("pod-7")),
        Vec::<String>::new()
    );

    // Planted: detectors applied after the environment; and the bare
    // process detector, which sends the command line. The check rejects both.
    let url = SCHEMA_URL;
    let wrong = pairs_of(&mutants::detectors_last("checkout"));
    let problems = resource_problems(&wrong, url, Some("pod-7"));
    assert!(
        problems.iter().any(|p| p.contains("not the one set")),
        "{problems:?}"
    );
    let wrong = pairs_of(&mutants::with_command_args("checkout"));
    let problems = resource_problems(&wrong, url, None);
    assert!(
        problems.contains(&"process.command_args sent".to_owned()),
        "{problems:?}"
    );
    unsafe { std::env::remove_var("OTEL_RESOURCE_ATTRIBUTES") };
}
