pub use otlp_csp_telemetry as telemetry;
