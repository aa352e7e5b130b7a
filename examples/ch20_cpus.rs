//! Chapter 20: how many worker threads a service starts, given the
//! `cpu.max` file of its cgroup, on a host with 64 CPUs.
//!
//! Run it with `cargo run --example ch20_cpus`.

use otlp_csp::services::runtime::{decide, parse_cpu_max};

fn main() {
    // ANCHOR: main
    let host_cpus = 64;
    for cpu_max in [
        "max 100000",
        "400000 100000",
        "150000 100000",
        "50000 100000",
    ] {
        let sizing = decide(None, parse_cpu_max(cpu_max), host_cpus);
        println!(
            "cpu.max {cpu_max:<14} -> {:>2} worker threads ({})",
            sizing.workers, sizing.reason
        );
    }
    let sizing = decide(Some(3), parse_cpu_max("150000 100000"), host_cpus);
    println!(
        "{:<22} -> {:>2} worker threads ({})",
        "WORKER_THREADS=3", sizing.workers, sizing.reason
    );
    // ANCHOR_END: main
}
