//! A criterion profiler that samples the benchmark's own process with
//! pprof while criterion runs it with `--profile-time`, and records the
//! stacks (folded, one line per distinct stack) as a book result: the
//! `{{#flamegraph GROUP/stacks}}` directive draws them, and
//! `{{#result-text GROUP/top}}` shows the frames that hold the time.
//!
//! `cargo bench --bench NAME -- --profile-time 5 FILTER` profiles every
//! benchmark FILTER matches, one results group per benchmark:
//! `profile_` + the benchmark id with `/` replaced by `__`.

use std::path::Path;

use book_results::profile;
use criterion::profiler::Profiler;

/// Samples per second: a prime, so the sampling does not beat in step with
/// a periodic part of the work.
const FREQUENCY: i32 = 997;

#[derive(Default)]
pub struct Folded {
    guard: Option<pprof::ProfilerGuard<'static>>,
}

impl Profiler for Folded {
    fn start_profiling(&mut self, _id: &str, _dir: &Path) {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .expect("start the sampling profiler");
        self.guard = Some(guard);
    }

    fn stop_profiling(&mut self, id: &str, _dir: &Path) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let report = guard.report().build().expect("the profile's report");
        let stacks: Vec<profile::Stack> = report
            .data
            .iter()
            .map(|(frames, &count)| (stack(frames), count.max(0) as u64))
            .collect();
        let group = format!("profile_{}", id.replace('/', "__"));
        let results = profile::measurements(&group, &stacks);
        let total = results[0].value;
        match book_results::record(&group, results) {
            Ok(path) => {
                eprintln!("profile of {id}: {} ({total} samples)", path.display())
            }
            Err(e) => eprintln!("profile of {id} not recorded: {e:#}"),
        }
    }
}

/// One sample's frames, outermost first, from the benchmark's closure up:
/// the frames of criterion's own loop and of the program's start are cut.
fn stack(frames: &pprof::Frames) -> Vec<String> {
    let names: Vec<String> = frames
        .frames
        .iter()
        .rev()
        .flat_map(|inlined| inlined.iter().rev().map(|s| s.name()))
        .collect();
    let start = names
        .iter()
        .rposition(|n| profile::short(n).starts_with("criterion::"))
        .map_or(0, |i| i + 1);
    names[start..].to_vec()
}
