//! The payment service as its own process. See `otlp_csp_services::process` for
//! the environment it reads.

#[cfg(feature = "allocators")]
#[global_allocator]
static ALLOCATOR: otlp_csp_services::allocator::Chosen =
    otlp_csp_services::allocator::Chosen;

fn main() -> std::process::ExitCode {
    otlp_csp_services::process::main(otlp_csp_services::process::Service::Payment)
}
