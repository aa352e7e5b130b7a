//! A criterion profiler that samples the benchmark's own process with
//! pprof while criterion runs it with `--profile-time`, and records the
//! stacks (folded, one line per distinct stack) as a book result: the
//! `{{#flamegraph GROUP/stacks}}` directive draws them, and
//! `{{#result-text GROUP/top}}` shows the frames that hold the time.
//!
//! `cargo bench --bench NAME -- --profile-time 5 FILTER` profiles every
//! benchmark FILTER matches, one results group per benchmark:
//! `profile_` + the benchmark id with `/` replaced by `__`.

use std::collections::HashMap;
use std::path::Path;

use book_results::Measurement;
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
        let stacks: Vec<(Vec<String>, u64)> = report
            .data
            .iter()
            .map(|(frames, &count)| (stack(frames), count.max(0) as u64))
            .filter(|(stack, n)| !stack.is_empty() && *n > 0)
            .collect();
        let group = format!("profile_{}", id.replace('/', "__"));
        let total: u64 = stacks.iter().map(|(_, n)| n).sum();
        let results = vec![
            Measurement::count(format!("{group}/stacks"), total as f64, "samples")
                .with_text(folded(&stacks)),
            Measurement::count(format!("{group}/top"), total as f64, "samples")
                .with_text(top_frames(&stacks, total, 14)),
        ];
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
        .flat_map(|inlined| inlined.iter().rev().map(|s| short(&s.name())))
        .collect();
    let start = names
        .iter()
        .rposition(|n| n.starts_with("criterion::"))
        .map_or(0, |i| i + 1);
    names[start..].to_vec()
}

/// A symbol as a reader wants it in a flame graph: `crate::Type::method`.
/// `<tracing_opentelemetry::layer::OpenTelemetryLayer<S,T> as Layer<S>>::on_close`
/// becomes `tracing_opentelemetry::OpenTelemetryLayer::on_close`: the hash
/// suffix, generic arguments, the trait and the middle of the path go.
fn short(name: &str) -> String {
    let name = match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 => head,
        _ => name,
    };
    // `<Type as Trait>::rest` -> `Type::rest`
    let name = match name.strip_prefix('<').and_then(|n| n.split_once(" as ")) {
        Some((ty, rest)) => match rest.rsplit_once(">::") {
            Some((_, method)) => format!("{ty}::{method}"),
            None => name.to_owned(),
        },
        // `<Type>::rest` -> `Type::rest`
        None => match name.strip_prefix('<').and_then(|n| n.split_once(">::")) {
            Some((ty, rest)) => format!("{ty}::{rest}"),
            None => name.to_owned(),
        },
    };
    let mut plain = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let parts: Vec<&str> = plain.split("::").collect();
    let kept = match parts.len() {
        0..=3 => parts,
        n => vec![parts[0], parts[n - 2], parts[n - 1]],
    };
    kept.join("::").replace(';', ",")
}

/// The folded format inferno reads: `outer;inner;leaf COUNT`, sorted so
/// that the text (and the drawing) is the same for the same profile.
fn folded(stacks: &[(Vec<String>, u64)]) -> String {
    let mut merged: HashMap<String, u64> = HashMap::new();
    for (stack, n) in stacks {
        *merged.entry(stack.join(";")).or_default() += n;
    }
    let mut lines: Vec<String> = merged
        .into_iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// The `n` frames in the most samples (anywhere on the stack), with the
/// share of samples each is in, and the share in which it is the leaf.
fn top_frames(stacks: &[(Vec<String>, u64)], total: u64, n: usize) -> String {
    let (mut inclusive, mut leaf): (HashMap<&str, u64>, HashMap<&str, u64>) =
        Default::default();
    for (stack, count) in stacks {
        let mut seen: Vec<&str> = stack.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for frame in seen {
            *inclusive.entry(frame).or_default() += count;
        }
        *leaf.entry(stack.last().unwrap()).or_default() += count;
    }
    let mut rows: Vec<(&str, u64)> = inclusive.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let pct = |x: u64| 100.0 * x as f64 / total.max(1) as f64;
    let mut out = format!("{:>6} {:>6}  frame\n", "in %", "leaf %");
    for (frame, count) in rows.into_iter().take(n) {
        let own = leaf.get(frame).copied().unwrap_or(0);
        let frame: String = frame.chars().take(110).collect();
        out.push_str(&format!("{:>6.1} {:>6.1}  {frame}\n", pct(count), pct(own)));
    }
    out
}
