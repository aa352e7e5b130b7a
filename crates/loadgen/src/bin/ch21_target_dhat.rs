//! Chapter 21's target (`ch21_target.rs`, the same server and handler) with
//! dhat's heap profiler, for `ch21-perf --alloc-profile` (feature `dhat`).
//!
//! Environment: as `ch21-target`, plus `DHAT_FILE`, where the profile is
//! written (default `dhat-heap.json`). Every allocation goes through dhat's
//! allocator, but only those between two lines on stdin are profiled:
//! `profile start` (answered `profile started` on stdout) and
//! `profile stop` (the profile is written, then `profile saved`). Blocks
//! allocated before the start are ignored, even if freed within.

use std::io::Write as _;

use anyhow::Result;

#[path = "ch21_target.rs"]
mod target;

// ANCHOR: main
#[tokio::main]
async fn main() -> Result<()> {
    otlp_csp_loadgen::alloc::forward_to_dhat();
    let file =
        std::env::var("DHAT_FILE").unwrap_or_else(|_| "dhat-heap.json".into());
    let mut profiler = None;
    target::serve(move |line| {
        let reply = match line {
            "profile start" if profiler.is_none() => {
                // Whole stacks (dhat trims its own frames and those below
                // the threads' entry points): the owner of an allocation
                // may be many frames below the allocator.
                let p = dhat::Profiler::builder()
                    .file_name(&file)
                    .trim_backtraces(Some(usize::MAX))
                    .build();
                profiler = Some(p);
                "profile started"
            }
            "profile stop" if profiler.is_some() => {
                drop(profiler.take()); // writes the file
                "profile saved"
            }
            _ => "profile: expected `profile start` or `profile stop`",
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{reply}").and_then(|()| out.flush());
    })
    .await
}
// ANCHOR_END: main
