//! Checks that tie `examples/` to the chapters: every example is included by
//! a chapter, and every example's run shown in a chapter is reproduced.

use anyhow::{Context, Result, bail};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

/// A `console` block whose first line is `$ [VAR=value ...] cargo run --example NAME [-- ARGS]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunBlock {
    /// `chapter.md:line`, for messages.
    pub location: String,
    pub example: String,
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
    /// The lines the chapter says the run prints.
    pub expected: Vec<String>,
}

/// Every markdown file under `src`, with its text.
pub fn chapters(src: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path)?;
                out.push((path, text));
            }
        }
    }
    out.sort();
    Ok(out)
}

static INCLUDE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{#(?:rustdoc_)?include\s+([^}:\s]+)").unwrap());

/// The files each chapter includes, resolved against the chapter's folder.
pub fn included_files(chapters: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    for (path, text) in chapters {
        for cap in INCLUDE.captures_iter(text) {
            let file = path.parent().unwrap().join(&cap[1]);
            // A missing file is the preprocessor's error to report; keep the raw path.
            files.insert(file.canonicalize().unwrap_or(file));
        }
    }
    files
}

/// Example names (file stems) in `examples/` that no chapter includes.
pub fn unincluded_examples(
    examples: &[PathBuf],
    included: &BTreeSet<PathBuf>,
) -> Vec<String> {
    examples
        .iter()
        .filter(|e| {
            !included.contains(&e.canonicalize().unwrap_or_else(|_| e.to_path_buf()))
        })
        .map(|e| stem(e))
        .collect()
}

pub fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Finds the run blocks in one chapter.
pub fn run_blocks(rel: &str, text: &str) -> Result<Vec<RunBlock>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let is_console =
            t.starts_with("```") && t.trim_start_matches('`').trim() == "console";
        if !is_console {
            i += 1;
            continue;
        }
        let start = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with("```") {
            body.push(lines[i]);
            i += 1;
        }
        i += 1;
        let Some(command) = body.first().and_then(|l| l.strip_prefix("$ ")) else {
            continue;
        };
        let location = format!("{rel}:{}", start + 1);
        if let Some(block) = parse_command(command, &location)? {
            blocks.push(RunBlock {
                expected: body[1..].iter().map(|s| s.to_string()).collect(),
                ..block
            });
        }
    }
    Ok(blocks)
}

/// `VAR=v cargo run --example NAME -- args` → a block without its output yet;
/// `None` for a console command that is not an example run.
fn parse_command(command: &str, location: &str) -> Result<Option<RunBlock>> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut env = Vec::new();
    let mut rest = &words[..];
    while let Some((first, tail)) = rest.split_first() {
        match first.split_once('=') {
            Some((k, v))
                if k.chars().all(|c| {
                    c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()
                }) =>
            {
                env.push((k.to_owned(), v.to_owned()));
                rest = tail;
            }
            _ => break,
        }
    }
    let [cargo, run_, flag, name, tail @ ..] = rest else {
        return Ok(None);
    };
    if (*cargo, *run_, *flag) != ("cargo", "run", "--example") {
        return Ok(None);
    }
    let args = match tail {
        [] => Vec::new(),
        ["--", args @ ..] => args.iter().map(|s| s.to_string()).collect(),
        _ => bail!(
            "{location}: only `-- ARGS` may follow the example name in `{command}`"
        ),
    };
    Ok(Some(RunBlock {
        location: location.to_owned(),
        example: name.to_string(),
        env,
        args,
        expected: Vec::new(),
    }))
}

pub(crate) static TRACE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{32}\b").unwrap());
pub(crate) static SPAN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{16}\b").unwrap());
/// A duration as the book's examples print it: `12µs`, `3.5ms`, `2s`, and
/// as cargo prints a slow build: `1m 05s`.
pub(crate) const DURATION_PATTERN: &str =
    r"(?:\d+m )?\d+(?:\.\d+)?(?:ns|µs|us|ms|s)";
pub(crate) static DURATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"\b{DURATION_PATTERN}\b")).unwrap());

/// Rewrites what differs between runs into placeholders that keep its shape:
/// the n-th distinct trace id becomes `<trace#n>`, likewise span ids, so two
/// outputs compare equal exactly when the same ids appear in the same places.
/// Durations become `<duration>`.
pub fn normalize(lines: &[String]) -> Vec<String> {
    let mut normalizer = Normalizer::default();
    lines.iter().map(|line| normalizer.line(line)).collect()
}

/// The numbering [`normalize`] gives ids, kept across calls: the lines of
/// several outputs normalised by one `Normalizer` share their numbers, so an
/// id that two outputs both print becomes the same placeholder in both.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    traces: BTreeMap<String, usize>,
    spans: BTreeMap<String, usize>,
}

impl Normalizer {
    /// One line, normalised: ids numbered in order of first appearance
    /// (continuing the numbering of earlier lines), durations replaced,
    /// trailing whitespace removed.
    pub fn line(&mut self, line: &str) -> String {
        let line = TRACE_ID.replace_all(line, |c: &regex::Captures| {
            let n = self.traces.len() + 1;
            format!(
                "<trace#{}>",
                self.traces.entry(c[0].to_owned()).or_insert(n)
            )
        });
        let line = SPAN_ID.replace_all(&line, |c: &regex::Captures| {
            let n = self.spans.len() + 1;
            format!("<span#{}>", self.spans.entry(c[0].to_owned()).or_insert(n))
        });
        DURATION
            .replace_all(&line, "<duration>")
            .trim_end()
            .to_owned()
    }
}

/// Compares normalised output; the error shows both sides from the first difference.
pub fn compare(block: &RunBlock, actual: &[String]) -> Result<()> {
    let want = normalize(&block.expected);
    let got = normalize(actual);
    if want == got {
        return Ok(());
    }
    let first = want.iter().zip(&got).take_while(|(a, b)| a == b).count();
    bail!(
        "{}: `{}` printed something else than the chapter shows (ids and durations are \
         compared by shape).\nFirst difference at output line {}.\nchapter (normalised):\n  {}\n\
         actual run (normalised):\n  {}",
        block.location,
        block.example,
        first + 1,
        want.join("\n  "),
        got.join("\n  ")
    )
}

/// Runs the built example binary with the block's environment, a clean
/// `OTEL_*` environment otherwise, and a time limit. Returns stdout then
/// stderr, as a terminal would show them.
pub fn run_example(
    bin: &Path,
    block: &RunBlock,
    limit: Duration,
) -> Result<(bool, Vec<String>)> {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(&block.args)
        .envs(block.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let Some(output) = crate::run::wait_within(&mut child, limit)? else {
        bail!(
            "{}: `{}` did not finish within {:?}",
            block.location,
            block.example,
            limit
        );
    };
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    Ok((
        output.status.success(),
        text.lines().map(str::to_owned).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_run_blocks_with_env_and_args() {
        let md = "text\n```console\n$ A_B=1 cargo run --example ch09_x -- --n 3\nout 1\nout 2\n```\n\
                  ```console\n$ ls\n```\n```rust\nfn main(){}\n```\n";
        let blocks = run_blocks("c.md", md).unwrap();
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        assert_eq!(b.location, "c.md:2");
        assert_eq!(b.example, "ch09_x");
        assert_eq!(b.env, vec![("A_B".into(), "1".into())]);
        assert_eq!(b.args, vec!["--n".to_string(), "3".into()]);
        assert_eq!(b.expected, lines(&["out 1", "out 2"]));
    }

    #[test]
    fn junk_after_the_example_name_is_an_error() {
        assert!(
            run_blocks(
                "c.md",
                "```console\n$ cargo run --example x --release\n```\n"
            )
            .is_err()
        );
    }

    #[test]
    fn a_slow_cargo_build_is_a_duration_too() {
        let line = "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 1m 05s";
        let shown = "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 9.81s";
        assert_eq!(
            DURATION.replace_all(line, "<duration>"),
            DURATION.replace_all(shown, "<duration>")
        );
    }

    #[test]
    fn normalisation_keeps_the_shape_of_ids() {
        let a = lines(&[
            "span a trace=53f84ede65c7d0af29e7570aa7f81dfc span=0737fcc6c3c9dd8a parent=none duration=12µs",
            "span b trace=53f84ede65c7d0af29e7570aa7f81dfc span=b8bf80b3b2d9cc22 parent=0737fcc6c3c9dd8a duration=3ms",
        ]);
        let same_shape = lines(&[
            "span a trace=ffffffffffffffffffffffffffffffff span=1111111111111111 parent=none duration=1µs",
            "span b trace=ffffffffffffffffffffffffffffffff span=2222222222222222 parent=1111111111111111 duration=9µs",
        ]);
        // The child's parent is no longer the first span: a different tree.
        let other_shape = lines(&[
            "span a trace=ffffffffffffffffffffffffffffffff span=1111111111111111 parent=none duration=1µs",
            "span b trace=ffffffffffffffffffffffffffffffff span=2222222222222222 parent=3333333333333333 duration=9µs",
        ]);
        assert_eq!(normalize(&a), normalize(&same_shape));
        assert_ne!(normalize(&a), normalize(&other_shape));
        assert_eq!(
            normalize(&a)[1],
            "span b trace=<trace#1> span=<span#2> parent=<span#1> duration=<duration>"
        );
    }

    #[test]
    fn compare_reports_the_location_and_difference() {
        let block = RunBlock {
            location: "c.md:7".into(),
            example: "x".into(),
            env: vec![],
            args: vec![],
            expected: lines(&["4 spans ended"]),
        };
        assert!(compare(&block, &lines(&["4 spans ended"])).is_ok());
        let err = compare(&block, &lines(&["3 spans ended"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.md:7") && err.contains("3 spans ended"),
            "{err}"
        );
    }

    #[test]
    fn an_unincluded_example_is_reported() {
        let dir =
            std::env::temp_dir().join(format!("xtask-incl-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("examples")).unwrap();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        for f in ["a.rs", "b.rs"] {
            std::fs::write(dir.join("examples").join(f), "fn main(){}").unwrap();
        }
        let chapter = dir.join("src/ch.md");
        let text = "```rust\n{{#include ../examples/a.rs:main}}\n```".to_string();
        std::fs::write(&chapter, &text).unwrap();
        let included = included_files(&[(chapter, text)]);
        let examples = vec![dir.join("examples/a.rs"), dir.join("examples/b.rs")];
        assert_eq!(
            unincluded_examples(&examples, &included),
            vec!["b".to_string()]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
