//! The order service as its own process. See `otlp_csp_services::process` for
//! the environment it reads.

fn main() -> std::process::ExitCode {
    otlp_csp_services::process::main(otlp_csp_services::process::Service::Order)
}
