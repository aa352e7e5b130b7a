//! The order service as its own process. See `otlp_csp_services::bin` for
//! the environment it reads.

fn main() -> std::process::ExitCode {
    otlp_csp_services::bin::main(otlp_csp_services::bin::Service::Order)
}
