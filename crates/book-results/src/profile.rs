//! Sampled stacks as a book result: the one way a CPU profile reaches a
//! page. A profiler (pprof in a benchmark, or in a service process) hands
//! over its samples as stacks of symbol names, outermost first; this module
//! shortens the names, folds the stacks (inferno's input: `outer;inner;leaf
//! COUNT`) and lists the frames that hold the time. The group it records,
//! `profile_NAME`, holds `stacks` (drawn by `{{#flamegraph GROUP/stacks}}`)
//! and `top` (shown by `{{#result-text GROUP/top}}`).

use std::collections::HashMap;

use anyhow::{Context as _, Result, bail};

use crate::Measurement;

/// One sampled stack (symbol names, outermost first) and its sample count.
pub type Stack = (Vec<String>, u64);

/// The two measurements of a profile group: the folded stacks and the top
/// frames, each counting the samples.
pub fn measurements(group: &str, stacks: &[Stack]) -> Vec<Measurement> {
    let stacks: Vec<Stack> = stacks
        .iter()
        .map(|(frames, n)| (frames.iter().map(|f| short(f)).collect(), *n))
        .filter(|(frames, n): &Stack| !frames.is_empty() && *n > 0)
        .collect();
    let total: u64 = stacks.iter().map(|(_, n)| n).sum();
    vec![
        Measurement::count(format!("{group}/stacks"), total as f64, "samples")
            .with_text(folded(&stacks)),
        Measurement::count(format!("{group}/top"), total as f64, "samples")
            .with_text(top_frames(&stacks, total, 14)),
    ]
}

/// Reads folded stacks (`a;b;c 12` per line), as a service process writes
/// them; a line without a count is an error naming it.
pub fn parse_folded(text: &str) -> Result<Vec<Stack>> {
    let mut stacks = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some((frames, count)) = line.rsplit_once(' ') else {
            bail!("line {}: no sample count in {line:?}", i + 1);
        };
        let count: u64 = count.parse().with_context(|| {
            format!("line {}: bad sample count {count:?}", i + 1)
        })?;
        stacks.push((frames.split(';').map(str::to_owned).collect(), count));
    }
    Ok(stacks)
}

/// A symbol as a reader wants it in a flame graph: `crate::Type::method`.
/// `<tracing_opentelemetry::layer::OpenTelemetryLayer<S,T> as Layer<S>>::on_close`
/// becomes `tracing_opentelemetry::OpenTelemetryLayer::on_close`: the hash
/// suffix, generic arguments, the trait and the middle of the path go.
pub fn short(name: &str) -> String {
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
pub fn folded(stacks: &[Stack]) -> String {
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
pub fn top_frames(stacks: &[Stack], total: u64, n: usize) -> String {
    let (mut inclusive, mut leaf): (HashMap<&str, u64>, HashMap<&str, u64>) =
        Default::default();
    for (stack, count) in stacks {
        let mut seen: Vec<&str> = stack.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for frame in seen {
            *inclusive.entry(frame).or_default() += count;
        }
        if let Some(last) = stack.last() {
            *leaf.entry(last).or_default() += count;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_trait_impls_and_generics() {
        assert_eq!(
            short(
                "<tracing_opentelemetry::layer::OpenTelemetryLayer<S,T> as \
                 tracing_subscriber::layer::Layer<S>>::on_close::h0123456789abcdef"
            ),
            "tracing_opentelemetry::OpenTelemetryLayer::on_close"
        );
        assert_eq!(short("a::b::c::d::e"), "a::d::e");
    }

    #[test]
    fn folds_reads_back_and_counts() {
        let text = "main;a;b 3\nmain;a 1\nmain;a;b 2\n";
        let stacks = parse_folded(text).unwrap();
        assert_eq!(folded(&stacks), "main;a 1\nmain;a;b 5");
        let m = measurements("profile_x", &stacks);
        assert_eq!(m[0].value, 6.0);
        let top = m[1].text.as_deref().unwrap();
        // `a` is on every stack and the leaf of one; `b` the leaf of five.
        assert!(top.contains(" 100.0   16.7  a\n"), "{top}");
        assert!(top.contains("  83.3   83.3  b\n"), "{top}");
        assert!(parse_folded("main;a\n").is_err());
        assert!(parse_folded("main;a x\n").is_err());
    }
}
