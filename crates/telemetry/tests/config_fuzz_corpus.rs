//! Replays the saved inputs of the fuzz target `telemetry_config` through
//! the target's check (see the `fuzz-corpus` crate).

use fuzz_corpus::replay;
use otlp_csp_telemetry::config_fuzzing;

#[test]
fn telemetry_config_corpus() {
    replay("telemetry_config", config_fuzzing::telemetry_config);
}
