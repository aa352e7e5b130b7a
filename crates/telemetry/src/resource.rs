//! The resource: the attributes that describe this process, sent once per
//! export request for all the spans, metric points and log records in it.

use opentelemetry::KeyValue;
use opentelemetry_resource_detectors::{
    ContainerResourceDetector, HostResourceDetector, OsResourceDetector,
    ProcessResourceDetector, ServiceInstanceIdResourceDetector,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{
    EnvResourceDetector, ResourceDetector, SdkProvidedResourceDetector,
    TelemetryResourceDetector,
};
use opentelemetry_semantic_conventions::{SCHEMA_URL, attribute};

// ANCHOR: resource
/// The resource of every signal the book's set-up exports, in layers; a
/// later layer wins on a key both have:
///
/// 1. what the process finds out about itself: a `service.instance.id`
///    (a random UUID, one per process), `container.id` in a container,
///    `host.name`, `host.arch`, `host.id`, `os.type`, `process.pid` and the
///    runtime;
/// 2. the SDK's defaults and what the operator sets:
///    `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`;
/// 3. the service name the configuration settled on.
///
/// The schema URL names the semantic-conventions version the keys follow.
pub fn resource(service_name: &str) -> Resource {
    let detected: [Box<dyn ResourceDetector>; 5] = [
        Box::new(ServiceInstanceIdResourceDetector),
        Box::new(ContainerResourceDetector),
        Box::new(HostResourceDetector::default()),
        Box::new(OsResourceDetector),
        Box::new(ProcessWithoutArgs),
    ];
    Resource::builder_empty()
        .with_detectors(&detected)
        .with_detectors(&configured())
        .with_service_name(service_name.to_owned())
        .with_schema_url([], SCHEMA_URL)
        .build()
}

/// The SDK's defaults and what the operator sets: `OTEL_RESOURCE_ATTRIBUTES`,
/// then `OTEL_SERVICE_NAME`.
fn configured() -> [Box<dyn ResourceDetector>; 3] {
    [
        Box::new(SdkProvidedResourceDetector),
        Box::new(TelemetryResourceDetector),
        Box::new(EnvResourceDetector::new()),
    ]
}
// ANCHOR_END: resource

/// The process detector without `process.command_args`: a command line can
/// hold a token or a password, and every export request would carry it.
struct ProcessWithoutArgs;

impl ResourceDetector for ProcessWithoutArgs {
    fn detect(&self) -> Resource {
        let all = ProcessResourceDetector.detect();
        let kept = all
            .iter()
            .filter(|(k, _)| k.as_str() != attribute::PROCESS_COMMAND_ARGS)
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()));
        Resource::builder_empty().with_attributes(kept).build()
    }
}

/// Deliberately wrong versions of [`resource`], for the tests that show the
/// resource checks can fail.
#[cfg(feature = "mutants")]
pub mod mutants {
    use super::*;

    /// The layers in the wrong order: the detected `service.instance.id`
    /// overrides the one the operator set in `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn detectors_last(service_name: &str) -> Resource {
        Resource::builder_empty()
            .with_detectors(&configured())
            .with_detector(Box::new(ServiceInstanceIdResourceDetector))
            .with_service_name(service_name.to_owned())
            .with_schema_url([], SCHEMA_URL)
            .build()
    }

    /// The bare process detector: the command line goes out with every
    /// export request.
    pub fn with_command_args(service_name: &str) -> Resource {
        Resource::builder_empty()
            .with_detector(Box::new(ProcessResourceDetector))
            .with_detector(Box::new(ServiceInstanceIdResourceDetector))
            .with_service_name(service_name.to_owned())
            .with_schema_url([], SCHEMA_URL)
            .build()
    }
}
