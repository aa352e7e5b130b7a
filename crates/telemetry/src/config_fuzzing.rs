//! The check the fuzz target `telemetry_config` (`fuzz/fuzz_targets/`) runs
//! on each input, shared with the test that replays the saved corpus on
//! stable Rust (`tests/config_fuzz_corpus.rs`). It panics on a broken
//! invariant, which is how libFuzzer recognises a finding.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::{Export, TelemetryConfig};

/// Every `OTEL_*` variable [`TelemetryConfig::from_lookup`] reads. The
/// check fails if it reads one not listed here, so the fuzzer always
/// covers all of them.
pub const VARIABLES: [&str; 22] = [
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// The environment an input describes: one variable per line, the line's
/// first byte choosing which (its value modulo the number of
/// [`VARIABLES`]), the rest of the line its value; invalid UTF-8 is
/// replaced. A later line for the same variable wins.
pub fn environment(data: &[u8]) -> BTreeMap<&'static str, String> {
    let mut env = BTreeMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some((&selector, value)) = line.split_first() else {
            continue;
        };
        let name = VARIABLES[usize::from(selector) % VARIABLES.len()];
        env.insert(name, String::from_utf8_lossy(value).into_owned());
    }
    env
}

/// [`TelemetryConfig::from_lookup`] on the [`environment`] of `data`.
/// Whatever the values: no panic; only listed variables are read; an error
/// names a variable that is set and repeats its value as found; an OTLP
/// export in an accepted configuration has an http(s) endpoint.
pub fn telemetry_config(data: &[u8]) {
    let env = environment(data);
    let read = RefCell::new(Vec::new());
    let result = TelemetryConfig::from_lookup("fuzzed-service", |name| {
        read.borrow_mut().push(name.to_owned());
        env.get(name).cloned()
    });
    for name in read.borrow().iter() {
        assert!(
            VARIABLES.contains(&name.as_str()),
            "from_lookup read {name}, which config_fuzzing::VARIABLES does not list: add it"
        );
    }
    match result {
        Ok(config) => {
            assert!(!config.service_name.is_empty());
            for export in [&config.traces, &config.metrics, &config.logs] {
                if let Export::Otlp { endpoint, .. } = export {
                    assert!(
                        endpoint.starts_with("http://")
                            || endpoint.starts_with("https://"),
                        "accepted endpoint {endpoint:?}"
                    );
                }
            }
        }
        Err(error) => {
            let value = env.get(error.variable);
            assert_eq!(
                value,
                Some(&error.value),
                "the error names {} with a value it does not have",
                error.variable
            );
            assert!(!error.expected.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, value: &str) -> Vec<u8> {
        let index = VARIABLES.iter().position(|v| *v == name).unwrap();
        let mut line = vec![u8::try_from(index).unwrap()];
        line.extend_from_slice(value.as_bytes());
        line.push(b'\n');
        line
    }

    #[test]
    fn inputs_map_to_variables_and_the_later_line_wins() {
        let mut data = line("OTEL_TRACES_SAMPLER", "always_on");
        data.extend(line("OTEL_TRACES_SAMPLER", "always_off"));
        let env = environment(&data);
        assert_eq!(env.len(), 1);
        assert_eq!(env["OTEL_TRACES_SAMPLER"], "always_off");
        // A selector past the end wraps round.
        assert_eq!(
            environment(&[VARIABLES.len() as u8, b'x'])
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [VARIABLES[0]]
        );
    }

    #[test]
    fn valid_and_invalid_environments_pass_the_checks() {
        telemetry_config(b"");
        telemetry_config(&line("OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1]:4318"));
        telemetry_config(&line("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"));
        telemetry_config(&line("OTEL_TRACES_SAMPLER_ARG", "NaN"));
        let mut data = line("OTEL_TRACES_SAMPLER", "traceidratio");
        data.extend(line("OTEL_TRACES_SAMPLER_ARG", "1.5"));
        telemetry_config(&data);
    }
}
