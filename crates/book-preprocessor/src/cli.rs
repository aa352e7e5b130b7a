//! Command line: mdBook's protocol plus the maintenance subcommands.

use crate::baseline;
use crate::criterion;
use crate::preprocess::{self, Settings};
use crate::provenance::{self, Machine};
use crate::results::ResultsFile;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Printed for `help` and after a usage error.
pub const USAGE: &str = "\
usage:
  book-preprocessor                      mdBook preprocessor: [context, book] JSON on stdin, book on stdout
  book-preprocessor supports RENDERER    exits 0: every renderer is supported
  book-preprocessor record-provenance [--criterion-dir DIR] [--note TEXT]
      writes DIR/book-provenance.json (CPU, cores, date, commit); run right after `cargo bench`
  book-preprocessor baseline [--criterion-dir DIR] [--out FILE] [--note TEXT]
                             [--results-dir RDIR] [--results-out ODIR]
      writes every fresh criterion result to FILE (default book/benchmarks/baseline.json)
      and copies the runs' results files from RDIR to ODIR (default book/benchmarks/results)
  book-preprocessor check-baseline [--file FILE] [--results-out ODIR]
      validates a results file (default book/benchmarks/baseline.json) and those in ODIR
  book-preprocessor listings [--src DIR]
      prints how long and wide the chapters' listings are (DIR defaults to book/src) and
      fails on one over budget (40 lines, 85 characters) without a reason written above it

DIR defaults to $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else target/criterion.
RDIR defaults to $BOOK_RESULTS_DIR, else $CARGO_TARGET_DIR/book-results, else target/book-results.";

/// Runs the command `args` (without the program name).
pub fn run(args: &[String], stdin: impl Read, stdout: impl Write) -> Result<()> {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => return preprocess(stdin, stdout),
    };
    match command {
        // mdBook asks before every build; the output is HTML-agnostic markup
        // that any renderer can pass through.
        "supports" => Ok(()),
        "record-provenance" => {
            let options = options(rest, &["--criterion-dir", "--note"])?;
            let dir = criterion_dir(&options);
            let written = provenance::record(&dir, options.get("--note").cloned())?;
            eprintln!(
                "wrote {}: {}",
                dir.join(provenance::FILE_NAME).display(),
                written.describe(provenance::Origin::Fresh)
            );
            Ok(())
        }
        "baseline" => {
            let options = options(
                rest,
                &[
                    "--criterion-dir",
                    "--out",
                    "--note",
                    "--results-dir",
                    "--results-out",
                ],
            )?;
            let dir = criterion_dir(&options);
            let out = path_option(&options, "--out", baseline::DEFAULT_PATH);
            let file = baseline::write_from_criterion(
                &dir,
                &out,
                options.get("--note").cloned(),
                &Machine::detect(),
            )?;
            eprintln!("wrote {} results to {}", file.results.len(), out.display());
            let from = match options.get("--results-dir") {
                Some(dir) => PathBuf::from(dir),
                None => book_results::results_dir(Path::new("."), |name| {
                    std::env::var_os(name)
                }),
            };
            let to = path_option(&options, "--results-out", baseline::RESULTS_PATH);
            let copied = baseline::copy_result_files(&from, &to)?;
            eprintln!(
                "copied {copied} results files from {} to {}",
                from.display(),
                to.display()
            );
            Ok(())
        }
        "check-baseline" => {
            let options = options(rest, &["--file", "--results-out"])?;
            let file = path_option(&options, "--file", baseline::DEFAULT_PATH);
            let results = ResultsFile::read(&file)?;
            eprintln!(
                "{}: valid, {} results",
                file.display(),
                results.results.len()
            );
            let dir = path_option(&options, "--results-out", baseline::RESULTS_PATH);
            let files = crate::catalogue::read_results_dir(&dir)?;
            eprintln!("{}: {} valid results files", dir.display(), files.len());
            Ok(())
        }
        "listings" => {
            let options = options(rest, &["--src"])?;
            let src = path_option(&options, "--src", "book/src");
            listings(&src, stdout)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn preprocess(stdin: impl Read, stdout: impl Write) -> Result<()> {
    let (ctx, book) = mdbook_preprocessor::parse_input(stdin)?;
    if ctx.mdbook_version != mdbook_preprocessor::MDBOOK_VERSION {
        eprintln!(
            "warning: book-preprocessor was built against mdBook {}, but is called by mdBook {}",
            mdbook_preprocessor::MDBOOK_VERSION,
            ctx.mdbook_version
        );
    }
    let settings = Settings::for_book(&ctx.root, |name| std::env::var_os(name));
    let book = preprocess::run(&ctx, book, &settings)?;
    serde_json::to_writer(stdout, &book).context("writing the book to stdout")?;
    Ok(())
}

/// `listings`: the distribution, the longest ones, and what is over budget.
fn listings(src: &Path, mut out: impl Write) -> Result<()> {
    let mut chapters = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                chapters.push(path);
            }
        }
    }
    chapters.sort();
    let mut found = Vec::new();
    for path in &chapters {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let dir = path.parent().unwrap_or(src);
        found.extend(crate::listings::scan(path, &text, dir));
    }
    writeln!(out, "{}", crate::listings::summary(&found))?;
    let mut longest: Vec<&crate::listings::Listing> = found.iter().collect();
    longest.sort_by_key(|l| std::cmp::Reverse(l.lines()));
    for listing in longest.iter().take(5) {
        let why = listing.long_reason.as_deref().unwrap_or("no reason needed");
        writeln!(
            out,
            "  {:>4} lines  {}:{} ({why})",
            listing.lines(),
            listing.chapter.display(),
            listing.line
        )?;
    }
    let problems: Vec<String> = found.iter().filter_map(|l| l.problem()).collect();
    if !problems.is_empty() {
        bail!(
            "{} listings over budget:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    Ok(())
}

fn criterion_dir(options: &BTreeMap<String, String>) -> PathBuf {
    match options.get("--criterion-dir") {
        Some(dir) => PathBuf::from(dir),
        None => {
            criterion::criterion_dir(Path::new("."), |name| std::env::var_os(name))
        }
    }
}

fn path_option(
    options: &BTreeMap<String, String>,
    name: &str,
    default: &str,
) -> PathBuf {
    PathBuf::from(options.get(name).map_or(default, String::as_str))
}

/// Parses `--name VALUE` and `--name=VALUE` for the `allowed` names.
pub fn options(
    args: &[String],
    allowed: &[&str],
) -> Result<BTreeMap<String, String>> {
    let mut parsed = BTreeMap::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        if !allowed.contains(&name) {
            bail!(
                "unexpected argument `{arg}` (expected {})\n\n{USAGE}",
                allowed.join(", ")
            );
        }
        let value = match value {
            Some(value) => value,
            None => match args.next() {
                Some(value) => value.clone(),
                None => bail!("`{name}` needs a value\n\n{USAGE}"),
            },
        };
        parsed.insert(name.to_owned(), value);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_both_option_forms() {
        let parsed = options(
            &strings(&["--out", "a.json", "--note=quiet box"]),
            &["--out", "--note"],
        )
        .unwrap();
        assert_eq!(parsed["--out"], "a.json");
        assert_eq!(parsed["--note"], "quiet box");
    }

    #[test]
    fn rejects_unknown_and_incomplete_options() {
        let error = options(&strings(&["--oops"]), &["--out"])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("unexpected argument `--oops` (expected --out)"));
        let error = options(&strings(&["--out"]), &["--out"])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("`--out` needs a value"));
    }

    #[test]
    fn supports_every_renderer_and_rejects_unknown_commands() {
        assert!(
            run(
                &strings(&["supports", "html"]),
                std::io::empty(),
                std::io::sink()
            )
            .is_ok()
        );
        assert!(
            run(
                &strings(&["supports", "pdf"]),
                std::io::empty(),
                std::io::sink()
            )
            .is_ok()
        );
        let error =
            run(&strings(&["frobnicate"]), std::io::empty(), std::io::sink())
                .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("unknown command `frobnicate`")
        );
    }

    #[test]
    fn check_baseline_validates_the_given_file() {
        let dir = crate::testutil::TempDir::new("cli-check");
        let good = dir.write(
            "good.json",
            r#"{"format": 1, "provenance": {"cpu": "c", "cores": 1, "date": "2026-11-25T22:00:00Z", "commit": "unknown"},
                "results": [{"id": "g/f", "value": 1.5, "unit": "ns", "statistic": "mean"}]}"#,
        );
        let bad = dir.write("bad.json", r#"{"format": 1}"#);
        let check = |path: &Path| {
            run(
                &strings(&["check-baseline", "--file", path.to_str().unwrap()]),
                std::io::empty(),
                std::io::sink(),
            )
        };
        assert!(check(&good).is_ok());
        let error = format!("{:#}", check(&bad).unwrap_err());
        assert!(
            error.contains("invalid results file")
                && error.contains("missing field `provenance`"),
            "{error}"
        );
        let error =
            format!("{:#}", check(&dir.path().join("absent.json")).unwrap_err());
        assert!(
            error.starts_with("reading ") && error.contains("absent.json"),
            "{error}"
        );
    }
}
