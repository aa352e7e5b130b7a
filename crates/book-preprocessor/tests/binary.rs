//! Runs the built binary the way mdBook does: `[context, book]` JSON on
//! stdin, the book on stdout, a non-zero exit and a message on failure.

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::config::Config;
use regex::Regex;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_book-preprocessor");

/// A throw-away book root.
struct Root(PathBuf);

impl Root {
    fn new(label: &str) -> Root {
        let path = std::env::temp_dir().join(format!(
            "book-preprocessor-it-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Root(path)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SLOPE: f64 = 181.934_567_891_234_5;
const MEAN_ONLY: f64 = 2_345.678_9;

/// A book with one chapter citing criterion and baseline figures, a criterion
/// tree with two results, and a baseline with a third.
fn fixture(label: &str) -> Root {
    let root = Root::new(label);
    root.write(
        "listings/span.rs",
        "// ANCHOR: noop\nlet span = tracer.start(\"x\");\n// ANCHOR_END: noop\n",
    );
    write_result(
        &root,
        "ch01_span/noop_tracer",
        ("ch01_span", "noop_tracer", None),
        Some(SLOPE),
    );
    write_result(
        &root,
        "ch01_span/batch/1024",
        ("ch01_span", "batch", Some("1024")),
        None,
    );
    root.write(
        "book/benchmarks/baseline.json",
        r#"{ "format": 1,
  "provenance": {"cpu": "Baseline CPU", "cores": 2, "date": "2026-11-25T22:00:00Z", "commit": "abc1234", "note": "committed"},
  "results": [ {"id": "ch02_csp/channel_send", "value": 31.2, "unit": "ns", "lower": 30.9, "upper": 31.5, "statistic": "slope"},
               {"id": "ch01_span/noop_tracer", "value": 1.0, "unit": "ns", "statistic": "slope"} ] }
"#,
    );
    root
}

fn write_result(
    root: &Root,
    directory: &str,
    (group, function, param): (&str, &str, Option<&str>),
    slope: Option<f64>,
) {
    let full_id = match param {
        Some(param) => format!("{group}/{function}/{param}"),
        None => format!("{group}/{function}"),
    };
    let estimate = |point: f64| {
        format!(
            r#"{{"confidence_interval": {{"confidence_level": 0.95, "lower_bound": {}, "upper_bound": {}}}, "point_estimate": {point}, "standard_error": 0.4}}"#,
            point * 0.99,
            point * 1.01
        )
    };
    let folder = format!("criterion/{directory}/new");
    root.write(
        &format!("{folder}/benchmark.json"),
        &format!(
            r#"{{"group_id": "{group}", "function_id": "{function}", "value_str": {}, "throughput": null, "full_id": "{full_id}", "directory_name": "{directory}", "title": "{full_id}"}}"#,
            param.map_or("null".to_owned(), |p| format!("\"{p}\""))
        ),
    );
    let slope = slope.map_or("null".to_owned(), estimate);
    root.write(
        &format!("{folder}/estimates.json"),
        &format!(
            r#"{{"mean": {}, "median": {}, "median_abs_dev": {}, "slope": {slope}, "std_dev": {}}}"#,
            estimate(MEAN_ONLY),
            estimate(MEAN_ONLY),
            estimate(1.0),
            estimate(2.0)
        ),
    );
}

/// The context and book mdBook would send, with each chapter also written
/// under `book/src` as it would be on disk.
fn input(root: &Path, chapters: &[(&str, &str)]) -> String {
    for (path, content) in chapters {
        let file = root.join("book/src").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let mut config = Config::default();
    config.book.src = PathBuf::from("book/src");
    let ctx = PreprocessorContext::new(root.to_owned(), config, "html".to_owned());
    let mut book = Book::new();
    for (path, content) in chapters {
        book.push_item(Chapter::new(path, (*content).to_owned(), *path, Vec::new()));
    }
    serde_json::to_string(&(ctx, book)).unwrap()
}

fn run(root: &Root, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(&root.0)
        .env("CRITERION_HOME", root.0.join("criterion"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("BOOK_RESULTS_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn chapter_content(book: &Book, index: usize) -> &str {
    match &book.items[index] {
        BookItem::Chapter(chapter) => &chapter.content,
        other => panic!("expected a chapter, got {other:?}"),
    }
}

/// The `data-*` attribute `name` of the `span.bench` for `id`.
fn attribute(html: &str, id: &str, name: &str) -> String {
    let pattern = format!(
        r#"<span class="bench" data-bench-id="{}"[^>]* {name}="([^"]*)""#,
        regex::escape(id)
    );
    Regex::new(&pattern)
        .unwrap()
        .captures(html)
        .unwrap_or_else(|| panic!("no {name} for {id} in {html}"))[1]
        .to_owned()
}

#[test]
fn supports_every_renderer() {
    let root = Root::new("supports");
    for renderer in ["html", "markdown", "pdf"] {
        let output = run(&root, &["supports", renderer], "");
        assert!(output.status.success(), "{renderer}");
    }
}

#[test]
fn writes_measured_figures_into_the_book() {
    let root = fixture("ok");
    let chapter = "# Spans\n\nA no-op span costs {{#bench ch01_span/noop_tracer}}; a send costs {{#bench ch02_csp/channel_send}}.\n\n\
        ```rust\n{{#include ../../listings/span.rs:noop}}\n```\n\n{{#bench-table ch01_span}}\n\nWrite \\{{#bench GROUP/FUNCTION}} to cite.\n";
    let output = run(&root, &[], &input(&root.0, &[("ch01.md", chapter)]));
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let book: Book = serde_json::from_slice(&output.stdout).unwrap();
    let html = chapter_content(&book, 0);

    // Fresh slope, exactly as criterion wrote it, and shown with 3 digits.
    let data_ns: f64 = attribute(html, "ch01_span/noop_tracer", "data-ns")
        .parse()
        .unwrap();
    assert_eq!(data_ns, SLOPE);
    assert_eq!(
        attribute(html, "ch01_span/noop_tracer", "data-statistic"),
        "slope"
    );
    assert_eq!(
        attribute(html, "ch01_span/noop_tracer", "data-source"),
        "fresh"
    );
    assert!(
        html.contains(
            ">182&nbsp;ns</span> <span class=\"bench-ci\">(95&nbsp;% CI 180–184&nbsp;ns)</span>"
        ),
        "{html}"
    );

    // Mean when criterion has no slope.
    let data_ns: f64 = attribute(html, "ch01_span/batch/1024", "data-ns")
        .parse()
        .unwrap();
    assert_eq!(data_ns, MEAN_ONLY);
    assert_eq!(
        attribute(html, "ch01_span/batch/1024", "data-statistic"),
        "mean"
    );
    assert!(
        html.contains(
            ">2.35&nbsp;µs</span></td><td>2.32–2.37&nbsp;µs</td><td>mean</td>"
        ),
        "{html}"
    );

    // Baseline fills the id criterion does not have, and says so.
    assert_eq!(attribute(html, "ch02_csp/channel_send", "data-ns"), "31.2");
    assert_eq!(
        attribute(html, "ch02_csp/channel_send", "data-source"),
        "baseline"
    );
    assert!(html.contains("title=\"committed baseline · Baseline CPU · 2 cores · 2026-11-25T22:00:00Z · commit abc1234 · committed\">baseline</sup>"));

    // The table has both rows in natural order and an inline chart.
    let table = &html[html.find("<div class=\"bench-table\"").unwrap()..];
    assert!(
        table.find("<code>batch/1024</code>").unwrap()
            < table.find("<code>noop_tracer</code>").unwrap()
    );
    assert!(
        table
            .contains("<div class=\"bench-chart\">\n<svg class=\"bench-chart-svg\"")
    );
    assert!(table.contains(
        "<p class=\"bench-provenance-line\"><span data-source=\"fresh\">Fresh measurement · "
    ));
    assert!(
        table.contains(" · commit unknown"),
        "no recorded provenance: derived"
    );

    // Includes are left for mdBook; escaped directives lose their backslash.
    assert!(html.contains("```rust\n{{#include ../../listings/span.rs:noop}}\n```"));
    assert!(html.contains("Write {{#bench GROUP/FUNCTION}} to cite."));
}

#[test]
fn fails_with_every_problem_named() {
    let root = fixture("broken");
    let first = "{{#include ../../listings/span.rs:gone}}\n\nCost: {{#bench ch01_span/missing}}\n";
    let second = "{{#rustdoc_include ../../listings/nothing.rs}}\n{{#bench a}}\n";
    let output = run(
        &root,
        &[],
        &input(&root.0, &[("ch01.md", first), ("part/ch02.md", second)]),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no book on failure");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("book-preprocessor: error: 4 problems in the book:\n"),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().skip(1).map(str::trim).collect();
    assert!(
        lines[0].starts_with(
            "book/src/ch01.md:1: {{#include ../../listings/span.rs:gone}}: anchor `gone` not found"
        ),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        "book/src/ch01.md:3: {{#bench ch01_span/missing}}: no result for `ch01_span/missing`: \
         looked in the fresh criterion results under criterion (2 results), in the runs' results \
         files under target/book-results and their committed copies under book/benchmarks/results, \
         and in the baseline book/benchmarks/baseline.json (2 results); group `ch01_span` has `ch01_span/batch/1024`, \
         `ch01_span/noop_tracer`"
    );
    assert_eq!(
        lines[2],
        "book/src/part/ch02.md:1: {{#rustdoc_include ../../listings/nothing.rs}}: \
         file `../../listings/nothing.rs` not found (looked for book/listings/nothing.rs)"
    );
    assert!(
        lines[3].starts_with(
            "book/src/part/ch02.md:2: {{#bench a}}: `a` names no function"
        ),
        "{stderr}"
    );
}

#[test]
fn unknown_id_without_baseline_names_both_places() {
    let root = Root::new("no-baseline");
    let output = run(
        &root,
        &[],
        &input(&root.0, &[("ch01.md", "{{#bench g/f}}")]),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "book-preprocessor: error: 1 problem in the book:\n  \
         book/src/ch01.md:1: {{#bench g/f}}: no result for `g/f`: looked in the fresh criterion \
         results under criterion (0 results), in the runs' results files under target/book-results \
         and their committed copies under book/benchmarks/results, and in the baseline \
         book/benchmarks/baseline.json, which does not exist\n"
    );
}

#[test]
fn baseline_subcommands_round_trip() {
    let root = fixture("subcommands");
    let recorded = run(
        &root,
        &[
            "record-provenance",
            "--criterion-dir",
            "criterion",
            "--note",
            "it",
        ],
        "",
    );
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let written = run(
        &root,
        &[
            "baseline",
            "--criterion-dir",
            "criterion",
            "--out",
            "out/baseline.json",
        ],
        "",
    );
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );

    let baseline: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.0.join("out/baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(baseline["format"], 1);
    assert_eq!(baseline["provenance"]["note"], "it");
    assert_eq!(
        baseline["provenance"]["commit"], "unknown",
        "the temp root is no git checkout"
    );
    let ids: Vec<&str> = baseline["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ch01_span/batch/1024", "ch01_span/noop_tracer"]);
    assert_eq!(baseline["results"][1]["value"].as_f64(), Some(SLOPE));

    let checked = run(
        &root,
        &["check-baseline", "--file", "out/baseline.json"],
        "",
    );
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stderr).contains("valid, 2 results"));

    root.write("bad.json", r#"{"format": 1, "provenance": {"cpu": "c", "cores": 0, "date": "2026-11-25T22:00:00Z", "commit": "x"}, "results": []}"#);
    let rejected = run(&root, &["check-baseline", "--file", "bad.json"], "");
    assert_eq!(rejected.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&rejected.stderr)
            .contains("cores must be at least 1")
    );

    let empty = run(&root, &["baseline", "--criterion-dir", "nowhere"], "");
    assert_eq!(empty.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&empty.stderr)
            .contains("no criterion results under nowhere")
    );
}
