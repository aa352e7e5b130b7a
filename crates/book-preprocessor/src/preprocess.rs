//! One pass over the book: check includes, write in benchmark figures, and
//! fail with every problem at once so an author fixes them in one go.

use crate::baseline;
use crate::catalogue::Catalogue;
use crate::chart;
use crate::criterion;
use crate::directive::{self, Kind};
use crate::includes;
use crate::provenance::Machine;
use crate::render;
use crate::waterfall;
use anyhow::{Result, bail};
use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::Book;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where results are read from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Criterion's output directory.
    pub criterion_dir: PathBuf,
    /// The baseline file.
    pub baseline_file: PathBuf,
    /// Where runs write their results files (`book_results::record`).
    pub results_dir: PathBuf,
    /// The committed copies of those files.
    pub baseline_results_dir: PathBuf,
    /// The book root, which messages name paths relative to.
    pub root: PathBuf,
    /// The machine fresh results were measured on, for derived provenance.
    pub machine: Machine,
}

impl Settings {
    /// The usual places for a book at `root`, given an environment lookup.
    pub fn for_book(
        root: &Path,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Settings {
        Settings {
            criterion_dir: criterion::criterion_dir(root, &env),
            baseline_file: root.join(baseline::DEFAULT_PATH),
            results_dir: book_results::results_dir(root, &env),
            baseline_results_dir: root.join(baseline::RESULTS_PATH),
            root: root.to_owned(),
            machine: Machine::detect(),
        }
    }
}

/// A problem in one chapter, located for the author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The chapter's file, relative to the book root.
    pub chapter: PathBuf,
    /// 1-based line of the directive.
    pub line: usize,
    /// The directive as written.
    pub directive: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.chapter.display(),
            self.line,
            self.directive,
            self.message
        )
    }
}

/// Runs the preprocessor over `book`. Results are only read when some
/// chapter cites one, so a book without figures builds without them.
pub fn run(
    ctx: &PreprocessorContext,
    mut book: Book,
    settings: &Settings,
) -> Result<Book> {
    let src_dir = ctx.root.join(&ctx.config.book.src);
    let needs_results = book
        .chapters()
        .any(|chapter| directive::needs_results(&chapter.content));
    let catalogue = if needs_results {
        Catalogue::load(
            &settings.criterion_dir,
            &settings.baseline_file,
            &settings.root,
            &settings.machine,
        )?
        .with_result_files(
            &settings.results_dir,
            &settings.baseline_results_dir,
            &settings.root,
        )?
    } else {
        // Nothing will be looked up, so nothing needs reading.
        Catalogue::new(Vec::new(), None, PathBuf::new(), PathBuf::new())
    };

    let mut problems = Vec::new();
    book.for_each_chapter_mut(|chapter| {
        let Some(source) = chapter.source_path.as_ref().or(chapter.path.as_ref())
        else {
            return;
        };
        let label = ctx.config.book.src.join(source);
        let dir = src_dir.join(source);
        let dir = dir.parent().unwrap_or(&src_dir);
        chapter.content = process_chapter(
            &chapter.content,
            dir,
            &settings.root,
            &label,
            &catalogue,
            &mut problems,
        );
    });

    if problems.is_empty() {
        return Ok(book);
    }
    let plural = if problems.len() == 1 { "" } else { "s" };
    let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    bail!(
        "{} problem{plural} in the book:\n{}",
        problems.len(),
        list.join("\n")
    )
}

/// Checks one chapter's includes and replaces its bench directives. Problems
/// are appended to `problems` in line order; a directive that fails is left
/// as written.
pub fn process_chapter(
    content: &str,
    chapter_dir: &Path,
    root: &Path,
    chapter: &Path,
    catalogue: &Catalogue,
    problems: &mut Vec<Problem>,
) -> String {
    let mut found_here = Vec::new();
    let out = replace_and_check(
        content,
        chapter_dir,
        root,
        chapter,
        catalogue,
        &mut found_here,
    );
    found_here.sort_by_key(|problem| problem.line);
    problems.extend(found_here);
    out
}

fn replace_and_check(
    content: &str,
    chapter_dir: &Path,
    root: &Path,
    chapter: &Path,
    catalogue: &Catalogue,
    problems: &mut Vec<Problem>,
) -> String {
    let problem = |line, directive: &str, message: String| Problem {
        chapter: chapter.to_owned(),
        line,
        directive: directive.to_owned(),
        message,
    };
    // Includes are checked on the text as written, which is what mdBook's
    // `links` preprocessor will see (bench output contains no directives).
    for found in includes::check(content, chapter_dir, root) {
        problems.push(problem(found.line, &found.directive, found.message));
    }

    let mut out = String::with_capacity(content.len());
    let (mut copied, mut waterfalls) = (0, 0);
    for found in directive::find(content) {
        out.push_str(&content[copied..found.span.start]);
        copied = found.span.end;
        let line = directive::line_of(content, found.span.start);
        let replacement = match found.kind {
            Kind::Escaped => Ok(found.text[1..].to_owned()),
            Kind::Bench(id) => catalogue.figure(id).map(render::inline),
            Kind::Table(group) => table(group, catalogue),
            Kind::Text(id) => catalogue.figure(id).and_then(render::text_block),
            Kind::Series(id) => crate::series::block(id, catalogue),
            Kind::Flame(id) => crate::flame::block(id, catalogue),
            Kind::Trace(id) => {
                let drawn = catalogue.figure(id).and_then(waterfall::block);
                waterfalls += usize::from(drawn.is_ok());
                drawn
            }
            Kind::Malformed(reason) => Err(reason),
        };
        match replacement {
            Ok(text) => out.push_str(&text),
            Err(message) => {
                problems.push(problem(line, found.text, message));
                out.push_str(found.text);
            }
        }
    }
    out.push_str(&content[copied..]);
    if waterfalls > 0 {
        out.push_str(&waterfall::page_assets());
    }
    out
}

fn table(group: &str, catalogue: &Catalogue) -> Result<String, String> {
    let figures = catalogue.group(group)?;
    let svg = match chart::bars(group, &figures) {
        Some((bars, axis)) => {
            let description = format!("Benchmark results of group {group}");
            Some(
                chart::svg(&bars, &axis, &description)
                    .map_err(|e| format!("{e:#}"))?,
            )
        }
        None => None,
    };
    Ok(render::table(group, &figures, svg.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Figure;
    use crate::provenance::Origin;
    use crate::results::Measurement;
    use crate::testutil::{TempDir, example_provenance};

    fn catalogue() -> Catalogue {
        let figure = |id: &str, value: f64| Figure {
            measurement: Measurement {
                id: id.into(),
                value,
                unit: "ns".into(),
                lower: Some(value - 1.0),
                upper: Some(value + 1.0),
                confidence: Some(0.95),
                statistic: "slope".into(),
                text: None,
            },
            origin: Origin::Fresh,
            provenance: example_provenance(),
        };
        Catalogue::new(
            vec![figure("ch01/noop", 31.2), figure("ch01/sdk", 182.0)],
            None,
            PathBuf::from("target/criterion"),
            PathBuf::from(baseline::DEFAULT_PATH),
        )
    }

    fn process(content: &str) -> (String, Vec<Problem>) {
        let dir = TempDir::new("preprocess");
        dir.write(
            "src/listing.rs",
            "// ANCHOR: a\nfn a() {}\n// ANCHOR_END: a\n",
        );
        let mut problems = Vec::new();
        let out = process_chapter(
            content,
            &dir.path().join("src"),
            dir.path(),
            Path::new("book/src/ch01.md"),
            &catalogue(),
            &mut problems,
        );
        (out, problems)
    }

    #[test]
    fn replaces_figures_and_keeps_everything_else() {
        let (out, problems) = process(
            "A no-op span costs {{#bench ch01/noop}}.\n\n{{#include listing.rs:a}}\n",
        );
        assert_eq!(problems, []);
        assert!(out.starts_with(
            "A no-op span costs <span class=\"bench\" data-bench-id=\"ch01/noop\""
        ));
        assert!(out.contains(">31.2&nbsp;ns</span>"));
        assert!(
            out.ends_with("</sup>.\n\n{{#include listing.rs:a}}\n"),
            "includes are left for mdBook"
        );
    }

    #[test]
    fn replaces_tables_with_a_chart() {
        let (out, problems) = process("# Costs\n{{#bench-table ch01}}\nAfter.\n");
        assert_eq!(problems, []);
        assert!(out.starts_with(
            "# Costs\n\n\n<div class=\"bench-table\" data-bench-group=\"ch01\">"
        ));
        assert!(out.contains(
            "<div class=\"bench-chart\">\n<svg class=\"bench-chart-svg\""
        ));
        assert!(out.ends_with("</div>\n\n\nAfter.\n"));
    }

    #[test]
    fn a_page_with_waterfalls_gets_their_style_and_script_once() {
        let (out, problems) = process("{{#trace ch01/noop}}\n");
        // ch01/noop has no capture text: the directive stays and is reported.
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("no capture text"));
        assert!(!out.contains("<script>"), "{out}");
        let (out, problems) = process("no waterfall here\n");
        assert!(problems.is_empty() && !out.contains("<style>"), "{out}");
    }

    #[test]
    fn unescapes_escaped_directives() {
        let (out, problems) =
            process(r"Write \{{#bench ch01/missing}} or \{{#bench-table x}}.");
        assert_eq!(problems, []);
        assert_eq!(out, "Write {{#bench ch01/missing}} or {{#bench-table x}}.");
    }

    #[test]
    fn reports_every_problem_with_chapter_line_and_directive() {
        let content = "{{#bench ch01/nope}}\n{{#bench a}}\n{{#bench-table zz}}\n{{#include gone.rs}}\n{{#include listing.rs:b}}\n";
        let (out, problems) = process(content);
        assert_eq!(out, content, "failed directives are left as written");
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 5, "{shown:#?}");
        // In line order, each naming chapter, line and directive.
        assert!(shown[0].starts_with(
            "book/src/ch01.md:1: {{#bench ch01/nope}}: no result for `ch01/nope`: looked in the fresh criterion results under target/criterion"
        ));
        assert!(shown[0].ends_with("group `ch01` has `ch01/noop`, `ch01/sdk`"));
        assert!(
            shown[1].starts_with(
                "book/src/ch01.md:2: {{#bench a}}: `a` names no function"
            )
        );
        assert!(shown[2].starts_with(
            "book/src/ch01.md:3: {{#bench-table zz}}: no results in group `zz`"
        ));
        assert!(shown[3].starts_with(
            "book/src/ch01.md:4: {{#include gone.rs}}: file `gone.rs` not found"
        ));
        assert!(shown[4].starts_with(
            "book/src/ch01.md:5: {{#include listing.rs:b}}: anchor `b` not found"
        ));
    }
}
