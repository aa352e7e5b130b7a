//! Hands every inline ```rust block of the book to skeptic, after expanding
//! `{{#include}}` directives the way mdBook will, so the code a reader sees is
//! the code that was compiled and run.
//!
//! Blocks made only of includes from `examples/`, `benches/` or the Rust
//! sources of `crates/` (and `// --snip--` lines between them, marking what
//! a listing leaves out) are not given to skeptic: those files are part of
//! cargo targets, compiled by `cargo build --all-targets` and run by
//! `cargo xtask test`, and an anchor taken from the middle of one would not
//! compile on its own.
//!
//! The build fails (with the file and line) when a block
//! - is marked `ignore` or `no_run` without a visible reason just above it
//!   (a line saying "not run" or "not compiled"),
//! - is marked `compile_fail` (skeptic cannot check it),
//! - uses the book's own crates or OpenTelemetry without `noplayground` (the
//!   Rust playground cannot build those, so its Run button would fail),
//! - includes a file or anchor that does not exist.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..").canonicalize().unwrap();
    let src = root.join("book/src");
    // skeptic only watches the files it is given; a new chapter must rerun this.
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-changed={}", root.join("examples").display());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("book");
    fs::create_dir_all(&out).unwrap();

    let mut chapters = Vec::new();
    collect_markdown(&src, &mut chapters);
    chapters.sort();

    let mut errors = Vec::new();
    let mut counts = Counts::default();
    let mut expanded_files = Vec::new();
    for chapter in &chapters {
        let rel = chapter.strip_prefix(&src).unwrap();
        let text = fs::read_to_string(chapter).unwrap();
        let expanded = expand_chapter(chapter, rel, &text, &mut counts, &mut errors);
        // One flat folder; skeptic names tests after the file stem, so keep the path in it.
        let name = rel.to_string_lossy().replace(['/', '\\'], "__");
        let path = out.join(name);
        write_if_changed(&path, &expanded);
        expanded_files.push(path);
        println!("cargo:rerun-if-changed={}", chapter.display());
    }
    // A chapter that was renamed or deleted must not leave its old copy behind.
    for entry in fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if !expanded_files.contains(&path) {
            fs::remove_file(path).unwrap();
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            println!("cargo:warning={e}");
        }
        panic!(
            "{} problem(s) with rust blocks in book/src:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    skeptic::generate_doc_tests(&expanded_files);
    let summary = format!(
        "/// How the book's rust blocks are tested (computed by build.rs).\n\
         pub const RUN: usize = {};\npub const COMPILE_ONLY: usize = {};\n\
         pub const IGNORED: usize = {};\npub const COVERED_BY_TARGETS: usize = {};\n",
        counts.run, counts.compile_only, counts.ignored, counts.covered
    );
    write_if_changed(
        &PathBuf::from(env::var("OUT_DIR").unwrap()).join("summary.rs"),
        &summary,
    );
}

/// Rewriting an unchanged file would make cargo rerun this script every time.
fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap();
    }
}

#[derive(Default)]
struct Counts {
    run: usize,
    compile_only: usize,
    ignored: usize,
    covered: usize,
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Returns the chapter with include directives inside rust blocks expanded,
/// and blocks covered by cargo targets replaced by a plain `text` block.
fn expand_chapter(
    chapter: &Path,
    rel: &Path,
    text: &str,
    counts: &mut Counts,
    errors: &mut Vec<String>,
) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some((fence, info)) = fence_open(line) else {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        };
        // Find the closing fence.
        let mut j = i + 1;
        while j < lines.len() && !lines[j].trim_start().starts_with(&fence) {
            j += 1;
        }
        let body = &lines[i + 1..j.min(lines.len())];
        let close = if j < lines.len() { lines[j] } else { "" };
        let where_ = format!("{}:{}", rel.display(), i + 1);
        let tags: Vec<&str> = info
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.first().is_some_and(|t| *t == "rust" || *t == "rs") {
            if tags[0] == "rs" {
                errors.push(format!(
                    "{where_}: write ```rust, not ```rs, so the block is tested"
                ));
            }
            check_block(&lines, i, &tags, body, &where_, errors);
            let is_includes_of_targets = !body.is_empty()
                && body.iter().all(|l| {
                    let l = l.trim();
                    l.is_empty() || l == SNIP || include_of_target(l).is_some()
                })
                && body.iter().any(|l| include_of_target(l.trim()).is_some());
            if is_includes_of_targets {
                counts.covered += 1;
                // Still check that every include resolves.
                for l in body {
                    let _ = expand_line(chapter, l, &where_, errors);
                }
                out.push_str("```text\n(covered by a compiled cargo target)\n```\n");
            } else {
                if tags.contains(&"ignore") {
                    counts.ignored += 1;
                } else if tags.contains(&"no_run") {
                    counts.compile_only += 1;
                } else {
                    counts.run += 1;
                }
                out.push_str(line);
                out.push('\n');
                for l in body {
                    out.push_str(&expand_line(chapter, l, &where_, errors));
                }
                out.push_str(close);
                out.push('\n');
            }
        } else {
            for l in &lines[i..=j.min(lines.len() - 1)] {
                out.push_str(l);
                out.push('\n');
            }
        }
        i = j + 1;
    }
    out
}

fn fence_open(line: &str) -> Option<(String, String)> {
    let t = line.trim_start();
    let ch = t.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let n = t.chars().take_while(|&c| c == ch).count();
    if n < 3 {
        return None;
    }
    Some((ch.to_string().repeat(n), t[n..].trim().to_owned()))
}

fn check_block(
    lines: &[&str],
    start: usize,
    tags: &[&str],
    body: &[&str],
    where_: &str,
    errors: &mut Vec<String>,
) {
    let has = |t: &str| tags.contains(&t);
    if has("compile_fail") {
        errors.push(format!(
            "{where_}: compile_fail blocks cannot be checked by skeptic; show the error as a text block"
        ));
    }
    if has("ignore") || has("no_run") {
        let reason = lines[..start]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.to_ascii_lowercase())
            .unwrap_or_default();
        if !(reason.contains("not run") || reason.contains("not compiled")) {
            errors.push(format!(
                "{where_}: a block marked ignore/no_run needs a visible reason on the line above it \
                 (a sentence saying why it is \"not run\" or \"not compiled\")"
            ));
        }
    }
    let needs_project = body.iter().any(|l| {
        l.contains("otlp_csp") || l.contains("opentelemetry") || l.contains("{{#")
    });
    if needs_project && !has("noplayground") {
        errors.push(format!(
            "{where_}: this block uses the book's crates or OpenTelemetry, which the Rust \
             playground cannot build: add `noplayground` to its info string"
        ));
    }
}

/// The line a listing puts where it leaves code out.
const SNIP: &str = "// --snip--";

/// `{{#include ../../examples/x.rs:anchor}}` → the path, if it points into
/// examples/, benches/ or a Rust source of crates/.
fn include_of_target(line: &str) -> Option<&str> {
    let (_, path) = parse_include(line)?;
    let file = path.split(':').next()?;
    let compiled = file.contains("examples/")
        || file.contains("benches/")
        || (file.contains("crates/") && file.ends_with(".rs"));
    compiled.then_some(file)
}

/// Parses `{{#include ARGS}}` or `{{#rustdoc_include ARGS}}` on a line of its own.
fn parse_include(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim().strip_prefix("{{#")?.strip_suffix("}}")?;
    let (kind, args) = inner.split_once(char::is_whitespace)?;
    matches!(kind, "include" | "rustdoc_include").then_some((kind, args.trim()))
}

/// Expands one line of a rust block, mirroring mdBook's include semantics:
/// `include` takes the anchor's (or line range's) lines; `rustdoc_include`
/// takes the whole file, hiding lines outside the range with `# `.
fn expand_line(
    chapter: &Path,
    line: &str,
    where_: &str,
    errors: &mut Vec<String>,
) -> String {
    let Some((kind, args)) = parse_include(line) else {
        return format!("{line}\n");
    };
    let mut parts = args.splitn(2, ':');
    let file = parts.next().unwrap_or_default();
    let selector = parts.next();
    let path = chapter.parent().unwrap().join(file);
    let Ok(content) = fs::read_to_string(&path) else {
        errors.push(format!("{where_}: included file {file} does not exist"));
        return String::new();
    };
    let all: Vec<&str> = content.lines().collect();
    let keep: Vec<bool> = match selector {
        None => vec![true; all.len()],
        Some(sel) if sel.chars().all(|c| c.is_ascii_digit() || c == ':') => {
            let mut bounds = sel.splitn(2, ':');
            let from = bounds
                .next()
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(1);
            let to = match bounds.next() {
                None => from,
                Some("") => usize::MAX,
                Some(s) => s.parse().unwrap_or(usize::MAX),
            };
            (1..=all.len()).map(|n| n >= from && n <= to).collect()
        }
        Some(anchor) => {
            let start = format!("ANCHOR: {anchor}");
            let end = format!("ANCHOR_END: {anchor}");
            let mut inside = false;
            let mut found = false;
            let keep = all
                .iter()
                .map(|l| {
                    if l.contains(&end) {
                        inside = false;
                    } else if l.contains(&start) {
                        inside = true;
                        found = true;
                        return false;
                    }
                    inside
                })
                .collect();
            if !found {
                errors.push(format!(
                    "{where_}: anchor `{anchor}` not found in {file}"
                ));
            }
            keep
        }
    };
    let mut out = String::new();
    for (l, k) in all.iter().zip(keep) {
        if l.contains("ANCHOR:") || l.contains("ANCHOR_END:") {
            continue;
        }
        if k {
            let _ = writeln!(out, "{l}");
        } else if kind == "rustdoc_include" {
            let _ = writeln!(out, "# {l}");
        }
    }
    out
}
