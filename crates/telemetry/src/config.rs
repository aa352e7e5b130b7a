//! Reading the standard `OTEL_*` environment variables into a checked configuration.
//!
//! The SDK's own exporters also read some of these variables, but silently fall
//! back to defaults on a value they do not understand. The book wants the
//! opposite: a typo in a variable is an error that names the variable.

use std::fmt;
use std::time::Duration;

/// Which OTLP transport and encoding to use (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC, conventionally on port 4317.
    Grpc,
    /// OTLP/HTTP with a protobuf body, conventionally on port 4318.
    HttpProtobuf,
    /// OTLP/HTTP with a JSON body, conventionally on port 4318.
    HttpJson,
}

impl Protocol {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "grpc" => Some(Self::Grpc),
            "http/protobuf" => Some(Self::HttpProtobuf),
            "http/json" => Some(Self::HttpJson),
            _ => None,
        }
    }
}

/// Where one signal's data goes (`OTEL_{TRACES,METRICS,LOGS}_EXPORTER`, plus
/// the endpoint variables).
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    /// Human-readable lines on stdout: the default, so an example shows its
    /// telemetry with no collector running.
    Console,
    /// OTLP to a collector. `endpoint` is the full URL the exporter posts to.
    Otlp {
        protocol: Protocol,
        endpoint: String,
        /// `OTEL_EXPORTER_OTLP_[SIGNAL_]COMPRESSION=gzip`.
        gzip: bool,
    },
    /// Data is produced but not exported (`OTEL_..._EXPORTER=none`).
    None,
}

/// Where finished spans go; the same choices as every signal.
pub type TraceExport = Export;

/// The three OpenTelemetry signals, each configured by its own variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// `traces`, `metrics` or `logs`, as in `/v1/traces`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    fn exporter_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_TRACES_EXPORTER",
            Signal::Metrics => "OTEL_METRICS_EXPORTER",
            Signal::Logs => "OTEL_LOGS_EXPORTER",
        }
    }

    fn endpoint_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        }
    }

    fn protocol_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        }
    }

    fn compression_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        }
    }
}

/// Which sampler to install (`OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Clone, Debug, PartialEq)]
pub enum SamplerChoice {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

/// The span batch processor's settings (`OTEL_BSP_*`). The SDK reads the
/// same variables for its own batch processor but ignores a value it cannot
/// parse; the book's set-up refuses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSettings {
    /// Spans the queue holds before new ones are dropped (`OTEL_BSP_MAX_QUEUE_SIZE`).
    pub queue_size: usize,
    /// Most spans in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
    pub max_batch_size: usize,
    /// Longest a span waits for its batch (`OTEL_BSP_SCHEDULE_DELAY`, milliseconds).
    pub max_delay: Duration,
}

impl Default for BatchSettings {
    /// The specification's defaults: 2048, 512, 5000 ms.
    fn default() -> Self {
        Self {
            queue_size: 2048,
            max_batch_size: 512,
            max_delay: Duration::from_millis(5000),
        }
    }
}

/// Everything [`crate::init`] needs, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct TelemetryConfig {
    pub service_name: String,
    pub traces: Export,
    pub sampler: SamplerChoice,
    /// The span batch processor's settings, used when spans go over OTLP.
    pub batch: BatchSettings,
    pub metrics: Export,
    /// How often metrics are collected and exported (`OTEL_METRIC_EXPORT_INTERVAL`,
    /// milliseconds). Shutdown always exports a last time.
    pub metric_interval: Duration,
    pub logs: Export,
    /// Whether [`crate::init`] installs a global `tracing` subscriber that turns
    /// `tracing` events into OpenTelemetry log records. Not an environment
    /// variable: an application that composes its own subscriber turns it off
    /// and adds [`crate::Telemetry::log_layer`] to its own.
    pub log_bridge: bool,
}

/// A variable whose value the book's set-up cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable at fault, e.g. `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub variable: &'static str,
    /// Its value as found.
    pub value: String,
    /// What was expected instead.
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not valid: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl std::error::Error for ConfigError {}

const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
const SAMPLER: &str = "OTEL_TRACES_SAMPLER";
const SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
const METRIC_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
const BSP_QUEUE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
const BSP_BATCH: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
const BSP_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
#[cfg(test)]
const TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
#[cfg(test)]
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
#[cfg(test)]
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

impl TelemetryConfig {
    /// Reads the process environment. `default_service_name` is used when
    /// `OTEL_SERVICE_NAME` is not set.
    pub fn from_env(default_service_name: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(default_service_name, |name| std::env::var(name).ok())
    }

    /// Same as [`TelemetryConfig::from_env`] with the environment supplied by
    /// `lookup`, so tests need not mutate the process environment.
    pub fn from_lookup(
        default_service_name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        // The specification treats an empty variable as unset.
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let service_name =
            get(SERVICE_NAME).unwrap_or_else(|| default_service_name.to_owned());
        Ok(Self {
            service_name,
            traces: export(&get, Signal::Traces)?,
            sampler: sampler(&get)?,
            batch: batch(&get)?,
            metrics: export(&get, Signal::Metrics)?,
            metric_interval: metric_interval(&get)?,
            logs: export(&get, Signal::Logs)?,
            log_bridge: true,
        })
    }

    /// The configuration for `service_name` with nothing exported: what a
    /// test starts from before choosing what it needs.
    pub fn silent(service_name: &str) -> Self {
        Self {
            service_name: service_name.to_owned(),
            traces: Export::None,
            sampler: SamplerChoice::ParentBasedAlwaysOn,
            batch: BatchSettings::default(),
            metrics: Export::None,
            metric_interval: Duration::from_secs(60),
            logs: Export::None,
            log_bridge: false,
        }
    }

    /// Every signal sent over OTLP with `protocol` to the collector at
    /// `base` (e.g. `http://127.0.0.1:4318`), as `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// would; the log bridge off, so tests can call it more than once.
    pub fn otlp(service_name: &str, protocol: Protocol, base: &str) -> Self {
        let to = |signal| Export::Otlp {
            protocol,
            endpoint: signal_endpoint(base, protocol, signal),
            gzip: false,
        };
        Self {
            traces: to(Signal::Traces),
            metrics: to(Signal::Metrics),
            logs: to(Signal::Logs),
            ..Self::silent(service_name)
        }
    }
}

fn export(
    get: &impl Fn(&str) -> Option<String>,
    signal: Signal,
) -> Result<Export, ConfigError> {
    let endpoint_given =
        get(signal.endpoint_variable()).is_some() || get(ENDPOINT).is_some();
    // Unset exporter: OTLP if an endpoint says where to, else the console.
    let variable = signal.exporter_variable();
    let exporter = get(variable).unwrap_or_else(|| {
        if endpoint_given { "otlp" } else { "console" }.to_owned()
    });
    match exporter.trim() {
        "console" => Ok(Export::Console),
        "none" => Ok(Export::None),
        "otlp" => {
            let protocol = protocol(get, signal)?;
            let endpoint = endpoint(get, protocol, signal)?;
            let gzip = compression(get, signal)?;
            Ok(Export::Otlp {
                protocol,
                endpoint,
                gzip,
            })
        }
        _ => Err(ConfigError {
            variable,
            value: exporter,
            expected: "one of otlp, console, none".into(),
        }),
    }
}

fn protocol(
    get: &impl Fn(&str) -> Option<String>,
    signal: Signal,
) -> Result<Protocol, ConfigError> {
    for variable in [signal.protocol_variable(), PROTOCOL] {
        if let Some(value) = get(variable) {
            return Protocol::parse(value.trim()).ok_or(ConfigError {
                variable,
                value,
                expected: "one of grpc, http/protobuf, http/json".into(),
            });
        }
    }
    // The specification's default transport.
    Ok(Protocol::HttpProtobuf)
}

fn compression(
    get: &impl Fn(&str) -> Option<String>,
    signal: Signal,
) -> Result<bool, ConfigError> {
    for variable in [signal.compression_variable(), COMPRESSION] {
        if let Some(value) = get(variable) {
            return match value.trim() {
                "gzip" => Ok(true),
                "none" => Ok(false),
                _ => Err(ConfigError {
                    variable,
                    value,
                    expected: "gzip or none".into(),
                }),
            };
        }
    }
    Ok(false)
}

/// The signal-specific variable is a complete URL; the generic one is a base to
/// which OTLP/HTTP appends `/v1/{signal}` (OTLP exporter specification).
fn endpoint(
    get: &impl Fn(&str) -> Option<String>,
    protocol: Protocol,
    signal: Signal,
) -> Result<String, ConfigError> {
    let variable = signal.endpoint_variable();
    if let Some(value) = get(variable) {
        check_url(variable, &value)?;
        return Ok(value.trim().to_owned());
    }
    let base = match get(ENDPOINT) {
        Some(value) => {
            check_url(ENDPOINT, &value)?;
            value.trim().to_owned()
        }
        None if protocol == Protocol::Grpc => "http://localhost:4317".to_owned(),
        None => "http://localhost:4318".to_owned(),
    };
    Ok(signal_endpoint(&base, protocol, signal))
}

/// The URL one signal is posted to, given the generic base endpoint.
fn signal_endpoint(base: &str, protocol: Protocol, signal: Signal) -> String {
    match protocol {
        Protocol::Grpc => base.to_owned(),
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            format!("{}/v1/{}", base.trim_end_matches('/'), signal.name())
        }
    }
}

impl BatchSettings {
    /// The settings the `OTEL_BSP_*` variables of the process environment
    /// give (the defaults for those unset); an unreadable value is an error
    /// naming it. For a program that sets everything else itself.
    pub fn from_env() -> Result<Self, ConfigError> {
        batch(&|name: &str| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        })
    }
}

fn batch(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<BatchSettings, ConfigError> {
    let number = |variable: &'static str,
                  min: u64,
                  expected: &str|
     -> Result<Option<u64>, ConfigError> {
        let Some(value) = get(variable) else {
            return Ok(None);
        };
        match value.trim().parse::<u64>() {
            Ok(n) if n >= min => Ok(Some(n)),
            _ => Err(ConfigError {
                variable,
                value,
                expected: expected.into(),
            }),
        }
    };
    let mut batch = BatchSettings::default();
    if let Some(n) =
        number(BSP_QUEUE, 1, "a number of spans, at least 1, e.g. 2048")?
    {
        batch.queue_size = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = number(BSP_BATCH, 1, "a number of spans, at least 1, e.g. 512")?
    {
        batch.max_batch_size = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(ms) = number(BSP_DELAY, 0, "a number of milliseconds, e.g. 5000")? {
        batch.max_delay = Duration::from_millis(ms);
    }
    Ok(batch)
}

fn metric_interval(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Duration, ConfigError> {
    let Some(value) = get(METRIC_INTERVAL) else {
        // The specification's default.
        return Ok(Duration::from_secs(60));
    };
    match value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(ConfigError {
            variable: METRIC_INTERVAL,
            value,
            expected: "a positive number of milliseconds, e.g. 60000".into(),
        }),
    }
}

/// An endpoint must be an absolute http(s) URL with a host; anything else would
/// only fail later, inside the exporter's background thread, far from its cause.
fn check_url(variable: &'static str, value: &str) -> Result<(), ConfigError> {
    let bad = || {
        ConfigError {
        variable,
        value: value.to_owned(),
        expected: "an absolute http:// or https:// URL with a host, e.g. http://localhost:4318"
            .into(),
    }
    };
    let rest = value
        .trim()
        .strip_prefix("http://")
        .or_else(|| value.trim().strip_prefix("https://"))
        .ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        // A port, if given, must be a number that fits in 16 bits.
        Some((host, port)) if !authority.ends_with(']') => {
            port.parse::<u16>().map_err(|_| bad())?;
            host
        }
        _ => authority,
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(())
}

fn sampler(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<SamplerChoice, ConfigError> {
    let Some(name) = get(SAMPLER) else {
        // The specification's default.
        return Ok(SamplerChoice::ParentBasedAlwaysOn);
    };
    let ratio = || -> Result<f64, ConfigError> {
        let Some(arg) = get(SAMPLER_ARG) else {
            return Ok(1.0);
        };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(ConfigError {
                variable: SAMPLER_ARG,
                value: arg,
                expected: "a probability between 0 and 1, e.g. 0.25".into(),
            }),
        }
    };
    match name.trim() {
        "always_on" => Ok(SamplerChoice::AlwaysOn),
        "always_off" => Ok(SamplerChoice::AlwaysOff),
        "traceidratio" => Ok(SamplerChoice::TraceIdRatio(ratio()?)),
        "parentbased_always_on" => Ok(SamplerChoice::ParentBasedAlwaysOn),
        "parentbased_always_off" => Ok(SamplerChoice::ParentBasedAlwaysOff),
        "parentbased_traceidratio" => {
            Ok(SamplerChoice::ParentBasedTraceIdRatio(ratio()?))
        }
        _ => Err(ConfigError {
            variable: SAMPLER,
            value: name,
            expected:
                "one of always_on, always_off, traceidratio, parentbased_always_on, \
                       parentbased_always_off, parentbased_traceidratio"
                    .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
        TelemetryConfig::from_lookup("svc", |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn no_variables_means_console_and_parent_based_always_on() {
        let c = config(&[]).unwrap();
        assert_eq!(c.service_name, "svc");
        assert_eq!(c.traces, TraceExport::Console);
        assert_eq!(c.sampler, SamplerChoice::ParentBasedAlwaysOn);
    }

    #[test]
    fn an_endpoint_switches_to_otlp_http_protobuf_with_signal_path() {
        let c = config(&[(ENDPOINT, "http://127.0.0.1:4318/")]).unwrap();
        assert_eq!(
            c.traces,
            TraceExport::Otlp {
                protocol: Protocol::HttpProtobuf,
                endpoint: "http://127.0.0.1:4318/v1/traces".into(),
                gzip: false
            }
        );
    }

    #[test]
    fn grpc_uses_the_base_endpoint_as_is() {
        let c = config(&[(ENDPOINT, "http://collector:4317"), (PROTOCOL, "grpc")])
            .unwrap();
        assert_eq!(
            c.traces,
            TraceExport::Otlp {
                protocol: Protocol::Grpc,
                endpoint: "http://collector:4317".into(),
                gzip: false
            }
        );
    }

    #[test]
    fn signal_specific_variables_win_over_generic_ones() {
        let c = config(&[
            (ENDPOINT, "http://generic:4318"),
            (TRACES_ENDPOINT, "http://traces:9999/custom"),
            (PROTOCOL, "grpc"),
            (TRACES_PROTOCOL, "http/json"),
        ])
        .unwrap();
        assert_eq!(
            c.traces,
            TraceExport::Otlp {
                protocol: Protocol::HttpJson,
                endpoint: "http://traces:9999/custom".into(),
                gzip: false
            }
        );
    }

    #[test]
    fn explicit_exporter_choices() {
        assert_eq!(
            config(&[(TRACES_EXPORTER, "none"), (ENDPOINT, "http://x:1")])
                .unwrap()
                .traces,
            TraceExport::None
        );
        assert!(matches!(
            config(&[(TRACES_EXPORTER, "otlp")]).unwrap().traces,
            TraceExport::Otlp { endpoint, .. } if endpoint == "http://localhost:4318/v1/traces"
        ));
        assert_eq!(
            config(&[(SERVICE_NAME, "gateway")]).unwrap().service_name,
            "gateway"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[(PROTOCOL, "ftp"), (ENDPOINT, "http://x:1")], PROTOCOL),
            (&[(TRACES_EXPORTER, "zipkin")], TRACES_EXPORTER),
            (&[(ENDPOINT, "localhost:4318")], ENDPOINT),
            (&[(ENDPOINT, "http://:4318")], ENDPOINT),
            (&[(ENDPOINT, "http://host:99999")], ENDPOINT),
            (&[(TRACES_ENDPOINT, "grpc://x")], TRACES_ENDPOINT),
            (&[(SAMPLER, "sometimes")], SAMPLER),
            (
                &[(SAMPLER, "traceidratio"), (SAMPLER_ARG, "1.5")],
                SAMPLER_ARG,
            ),
            (
                &[(SAMPLER, "traceidratio"), (SAMPLER_ARG, "half")],
                SAMPLER_ARG,
            ),
        ];
        for (vars, variable) in cases {
            let err = config(vars).unwrap_err();
            assert_eq!(err.variable, *variable, "for {vars:?}");
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn sampler_arguments() {
        let c =
            config(&[(SAMPLER, "parentbased_traceidratio"), (SAMPLER_ARG, "0.25")])
                .unwrap();
        assert_eq!(c.sampler, SamplerChoice::ParentBasedTraceIdRatio(0.25));
        let c = config(&[(SAMPLER, "traceidratio")]).unwrap();
        assert_eq!(c.sampler, SamplerChoice::TraceIdRatio(1.0));
        let c = config(&[(SAMPLER, "always_off")]).unwrap();
        assert_eq!(c.sampler, SamplerChoice::AlwaysOff);
    }

    #[test]
    fn metrics_and_logs_follow_their_own_variables() {
        let c = config(&[
            (ENDPOINT, "http://c:4318"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
            (METRIC_INTERVAL, "250"),
        ])
        .unwrap();
        assert_eq!(c.metrics, Export::None);
        assert_eq!(
            c.logs,
            Export::Otlp {
                protocol: Protocol::HttpJson,
                endpoint: "http://c:4318/v1/logs".into(),
                gzip: true
            }
        );
        assert_eq!(c.metric_interval, Duration::from_millis(250));
        assert!(matches!(c.traces, Export::Otlp { gzip: false, .. }));
        let none = config(&[]).unwrap();
        assert_eq!(
            (none.metrics, none.logs),
            (Export::Console, Export::Console)
        );
        assert!(none.log_bridge);
    }

    #[test]
    fn bad_signal_values_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("OTEL_LOGS_EXPORTER", "file")], "OTEL_LOGS_EXPORTER"),
            (
                &[(COMPRESSION, "zstd"), (ENDPOINT, "http://x:1")],
                COMPRESSION,
            ),
            (&[(METRIC_INTERVAL, "0")], METRIC_INTERVAL),
            (&[(METRIC_INTERVAL, "1s")], METRIC_INTERVAL),
            (&[(BSP_QUEUE, "4k")], BSP_QUEUE),
            (&[(BSP_QUEUE, "0")], BSP_QUEUE),
            (&[(BSP_BATCH, "-1")], BSP_BATCH),
            (&[(BSP_DELAY, "5s")], BSP_DELAY),
            (
                &[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318")],
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            ),
        ];
        for (vars, variable) in cases {
            assert_eq!(
                config(vars).unwrap_err().variable,
                *variable,
                "for {vars:?}"
            );
        }
    }

    #[test]
    fn batch_settings_from_bsp_variables() {
        let c = config(&[(BSP_QUEUE, "64"), (BSP_BATCH, "8"), (BSP_DELAY, "0")])
            .unwrap();
        assert_eq!(
            c.batch,
            BatchSettings {
                queue_size: 64,
                max_batch_size: 8,
                max_delay: Duration::ZERO
            }
        );
        assert_eq!(config(&[]).unwrap().batch, BatchSettings::default());
    }

    #[test]
    fn otlp_constructor_points_every_signal_at_one_collector() {
        let c = TelemetryConfig::otlp(
            "t",
            Protocol::HttpProtobuf,
            "http://127.0.0.1:9/",
        );
        let endpoints: Vec<_> = [&c.traces, &c.metrics, &c.logs]
            .iter()
            .map(|e| match e {
                Export::Otlp { endpoint, .. } => endpoint.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            endpoints,
            [
                "http://127.0.0.1:9/v1/traces",
                "http://127.0.0.1:9/v1/metrics",
                "http://127.0.0.1:9/v1/logs"
            ]
        );
    }

    #[test]
    fn ipv6_endpoint_with_port_is_accepted() {
        assert!(config(&[(ENDPOINT, "http://[::1]:4318")]).is_ok());
    }
}
