//! The waterfalls' captures. `{{#trace traces/NAME}}` in a chapter draws the
//! run of the console block just above it: this stage runs that block again
//! with its spans going to the book's receiver, exactly as a reader would
//! (`otlp-receiver --capture FILE`, then `OTEL_EXPORTER_OTLP_ENDPOINT`), and
//! records the capture in the results group `traces` for the preprocessor.
//! A block that passes `--capture FILE` itself (chapter 18's example has its
//! own receiver) writes the capture without help. Either way the capture is
//! then handed to the reader's command, `trace-view`, which must draw it.

use anyhow::{Context, Result, bail, ensure};
use book_results::results::Measurement;
use regex::Regex;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use crate::examples::{self, RunBlock};

/// The results group the captures are recorded in.
pub const GROUP: &str = "traces";

/// A waterfall a chapter asks for, and the run that makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// `chapter.md:line` of the directive.
    pub location: String,
    /// `traces/NAME`.
    pub id: String,
    pub block: RunBlock,
}

static TRACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\\)?\{\{\s*#trace\s+([^{}\s]+)\s*\}\}").unwrap());

/// The `{{#trace}}` directives of one chapter, each with the example run
/// shown above it.
pub fn wanted(rel: &str, text: &str) -> Result<Vec<Wanted>> {
    let blocks = examples::run_blocks(rel, text)?;
    let line_of = |b: &RunBlock| -> usize {
        let line = b.location.rsplit(':').next().unwrap_or("0");
        line.parse().unwrap_or(0)
    };
    let mut out = Vec::new();
    for cap in TRACE.captures_iter(text) {
        if cap.get(1).is_some() {
            continue; // `\{{#trace ...}}` is written literally
        }
        let at = cap.get(0).unwrap().start();
        let line = text[..at].matches('\n').count() + 1;
        let location = format!("{rel}:{line}");
        let id = cap[2].to_owned();
        ensure!(
            id.strip_prefix("traces/")
                .is_some_and(|n| !n.is_empty() && !n.contains('/')),
            "{location}: a waterfall's id is `traces/NAME`, not `{id}`"
        );
        let Some(block) = blocks.iter().rfind(|b| line_of(b) < line) else {
            bail!(
                "{location}: `{{{{#trace {id}}}}}` draws the run of the console block above it, \
                 and there is no `$ cargo run --example` block above it"
            );
        };
        out.push(Wanted {
            location,
            id,
            block: block.clone(),
        });
    }
    Ok(out)
}

/// The FILE of `--capture FILE` in an example's arguments.
fn capture_arg(args: &[String]) -> Option<&str> {
    let at = args.iter().position(|a| a == "--capture")?;
    args.get(at + 1).map(String::as_str)
}

/// Kills the receiver if a capture fails half-way.
struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `wanted`'s example with its spans captured; returns the capture
/// (OTLP/JSON Lines) and the number of spans the receiver counted.
pub fn capture(
    root: &Path,
    scratch: &Path,
    wanted: &Wanted,
) -> Result<(String, usize)> {
    let name = wanted.id.trim_start_matches("traces/");
    let bin = root
        .join("target/debug/examples")
        .join(&wanted.block.example);
    let file = scratch.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&file);
    let mut block = wanted.block.clone();
    let mut receiver = None;
    if let Some(arg) = capture_arg(&block.args).map(str::to_owned) {
        // The example writes the capture itself: point it at the scratch file.
        for a in &mut block.args {
            if *a == arg {
                *a = file.display().to_string();
            }
        }
    } else {
        let (child, http) = start_receiver(root, &file)?;
        receiver = Some(child);
        block
            .env
            .retain(|(k, _)| !k.starts_with("OTEL_EXPORTER_OTLP"));
        block.env.extend([
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                format!("http://{http}"),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "http/protobuf".into()),
        ]);
    }
    let (ok, output) = examples::run_example(&bin, &block, Duration::from_secs(60))?;
    ensure!(
        ok || block.expected.iter().any(|l| l.starts_with("Error:")),
        "{}: the capture run of `{}` failed:\n{}",
        wanted.location,
        block.example,
        output.join("\n")
    );
    if let Some(mut child) = receiver.take() {
        // Closing its standard input stops it; it then writes the file.
        drop(child.0.stdin.take());
        let out = crate::run::wait_within(&mut child.0, Duration::from_secs(20))?
            .context("the receiver did not stop within 20 s")?;
        ensure!(
            out.status.success(),
            "otlp-receiver failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "{}: the run of `{}` wrote no capture at {}",
            wanted.location,
            block.example,
            file.display()
        )
    })?;
    let spans = text
        .lines()
        .map(|line| -> Result<usize> {
            let request: serde_json::Value = serde_json::from_str(line)?;
            Ok(count_spans(&request))
        })
        .sum::<Result<usize>>()
        .with_context(|| format!("reading the capture {}", file.display()))?;
    ensure!(
        spans > 0,
        "{}: the run of `{}` exported no span",
        wanted.location,
        block.example
    );
    draw(root, &file, spans)?;
    Ok((text, spans))
}

/// Starts `otlp-receiver --capture FILE`; returns it and its HTTP address.
fn start_receiver(root: &Path, file: &Path) -> Result<(Receiver, String)> {
    let bin = root.join("target/debug/otlp-receiver");
    let mut child = Command::new(&bin)
        .arg("--capture")
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("otlp-receiver has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut http = None;
    for line in lines.by_ref().take(2) {
        if let Some(addr) = line?.strip_prefix("http ") {
            http = Some(addr.to_owned());
        }
    }
    // Keep draining its output so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let receiver = Receiver(child);
    let http = http.context("otlp-receiver did not print its HTTP address")?;
    Ok((receiver, http))
}

/// The spans in one OTLP/JSON export request.
fn count_spans(request: &serde_json::Value) -> usize {
    let list = |v: &serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        v.get(key)
            .and_then(|l| l.as_array())
            .cloned()
            .unwrap_or_default()
    };
    list(request, "resourceSpans")
        .iter()
        .flat_map(|rs| list(rs, "scopeSpans"))
        .map(|ss| list(&ss, "spans").len())
        .sum()
}

/// The reader's command on the capture: `trace-view FILE -o FILE.html
/// --chrome FILE.json` must succeed and draw every span.
fn draw(root: &Path, file: &Path, spans: usize) -> Result<()> {
    let bin = root.join("target/debug/trace-view");
    let (html, chrome) = (file.with_extension("html"), file.with_extension("json"));
    let out = Command::new(&bin)
        .arg(file)
        .arg("-o")
        .arg(&html)
        .arg("--chrome")
        .arg(&chrome)
        .output()
        .with_context(|| format!("starting {}", bin.display()))?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned()
        + &String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "trace-view {} failed:\n{said}",
        file.display()
    );
    ensure!(
        said.contains(&format!(" {spans} span(s)")),
        "trace-view drew something else than the {spans} spans of {}:\n{said}",
        file.display()
    );
    let page = std::fs::read_to_string(&html)?;
    ensure!(
        page.matches("class=\"tv-span").count() == spans,
        "{} does not draw {spans} bars",
        html.display()
    );
    let events: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&chrome)?)
            .with_context(|| format!("{} is not JSON", chrome.display()))?;
    let complete = (events["traceEvents"].as_array())
        .map_or(0, |e| e.iter().filter(|e| e["ph"] == "X").count());
    ensure!(
        complete == spans,
        "{} has {complete} complete events, not {spans}",
        chrome.display()
    );
    Ok(())
}

/// Captures every waterfall the chapters ask for and records them all in
/// the group `traces`. Returns how many.
pub fn record_all(root: &Path, chapters: &[(PathBuf, String)]) -> Result<usize> {
    let mut all: Vec<Wanted> = Vec::new();
    for (path, text) in chapters {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        for w in wanted(&rel, text)? {
            if let Some(twin) = all.iter().find(|o| o.id == w.id) {
                bail!(
                    "{}: `{}` is already drawn at {}",
                    w.location,
                    w.id,
                    twin.location
                );
            }
            all.push(w);
        }
    }
    if all.is_empty() {
        return Ok(0);
    }
    crate::run::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "-p",
        "otlp-receiver",
        "-p",
        "trace-view",
        "--bins",
    ])?;
    let scratch = root.join("target/trace-captures");
    std::fs::create_dir_all(&scratch)?;
    let mut measurements = Vec::new();
    for w in &all {
        let (text, spans) = capture(root, &scratch, w)?;
        println!("    {}: {spans} spans from `{}`", w.id, w.block.example);
        measurements.push(
            Measurement::count(w.id.clone(), spans as f64, "spans").with_text(text),
        );
    }
    book_results::record(GROUP, measurements)?;
    Ok(all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "intro\n\n```console\n$ cargo run --example a\nout\n```\n\n\
                        {{#trace traces/a}}\n\n```console\n$ X=1 cargo run --example b -- --capture f.jsonl\n\
                        ```\n{{#trace traces/b}} \\{{#trace traces/c}}\n";

    #[test]
    fn each_waterfall_draws_the_run_above_it() {
        let found = wanted("ch.md", PAGE).expect("parses");
        let got: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|w| (w.location.as_str(), w.id.as_str(), w.block.example.as_str()))
            .collect();
        assert_eq!(
            got,
            [("ch.md:8", "traces/a", "a"), ("ch.md:13", "traces/b", "b")]
        );
        assert_eq!(capture_arg(&found[1].block.args), Some("f.jsonl"));
        assert_eq!(capture_arg(&found[0].block.args), None);
    }

    #[test]
    fn a_waterfall_without_a_run_above_it_or_with_a_bad_id_is_an_error() {
        let e = wanted(
            "ch.md",
            "{{#trace traces/a}}\n```console\n$ cargo run --example a\n```\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("ch.md:1"), "{e}");
        let e = wanted(
            "ch.md",
            "```console\n$ cargo run --example a\n```\n{{#trace ch01/a}}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("is `traces/NAME`"), "{e}");
    }

    #[test]
    fn counts_the_spans_of_a_request() {
        let request = serde_json::json!({"resourceSpans": [
            {"scopeSpans": [{"spans": [{}, {}]}, {"spans": [{}]}]},
            {"scopeSpans": []}
        ]});
        assert_eq!(count_spans(&request), 3);
    }
}
