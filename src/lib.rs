pub use csp_models as models;
pub use otlp_csp_loadgen as loadgen;
pub use otlp_csp_patterns as patterns;
pub use otlp_csp_resilience as resilience;
pub use otlp_csp_services as services;
pub use otlp_csp_telemetry as telemetry;
