//! Checking `{{#include}}`, `{{#rustdoc_include}}` and `{{#playground}}`
//! before mdBook expands them.
//!
//! mdBook only logs a missing file and renders an empty block for a missing
//! anchor, so a renamed listing or anchor silently empties a code block. This
//! module finds the directives exactly as mdBook's `links` preprocessor does
//! (same pattern, same escape rule, same `PATH:ANCHOR` / `PATH:START:END`
//! parsing) and reports what would come out wrong. It never changes the text.

use crate::paths;
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// mdBook stops expanding nested includes at this depth; so do the checks.
const MAX_DEPTH: usize = 10;

/// Something wrong with one directive of a chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludeProblem {
    /// 1-based line of the directive in the chapter.
    pub line: usize,
    /// The directive as written in the chapter.
    pub directive: String,
    /// What is missing.
    pub message: String,
}

/// Which lines of a file a directive takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Lines `start..end`, 0-based, end exclusive; `None` means open.
    Lines {
        /// First line taken.
        start: Option<usize>,
        /// One past the last line taken.
        end: Option<usize>,
    },
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
}

/// The same pattern as mdBook 0.5's `find_links`, so that exactly the
/// directives mdBook will expand are checked (including its greedy escape:
/// a `\{{#` swallows the rest of its line).
pub(crate) static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \\\{\{\#.*\}\}
        |
        \{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}",
    )
    .expect("the link pattern is valid")
});

static ANCHOR_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR:\s*(?P<name>[\w_-]+)").expect("valid"));
static ANCHOR_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*(?P<name>[\w_-]+)").expect("valid"));

/// mdBook's reading of the part after `PATH:`.
pub fn parse_selection(spec: Option<&str>) -> Selection {
    let mut parts = spec.unwrap_or("").splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        // Lines are numbered from 1 in directives.
        Ok(line) => Some(line.saturating_sub(1)),
        Err(_) if first.is_empty() => None,
        Err(_) => return Selection::Anchor(first.to_owned()),
    };
    let end = parts.next().map(str::parse::<usize>);
    match (start, end) {
        (Some(start), Some(Ok(end))) => Selection::Lines {
            start: Some(start),
            end: Some(end),
        },
        (Some(start), Some(Err(_))) => Selection::Lines {
            start: Some(start),
            end: None,
        },
        (Some(start), None) => Selection::Lines {
            start: Some(start),
            end: Some(start + 1),
        },
        (None, Some(Ok(end))) => Selection::Lines {
            start: None,
            end: Some(end),
        },
        (None, _) => Selection::Lines {
            start: None,
            end: None,
        },
    }
}

/// Checks every include-like directive in `content`, a chapter whose file
/// lives in `base_dir`. Included files are checked in turn, as mdBook
/// expands includes inside included text. Paths in messages are shown
/// relative to `root`, the book root.
pub fn check(content: &str, base_dir: &Path, root: &Path) -> Vec<IncludeProblem> {
    let mut problems = Vec::new();
    for link in LINK.captures_iter(content) {
        let whole = link.get(0).expect("group 0 always matches");
        let (Some(kind), Some(rest)) = (link.get(1), link.get(2)) else {
            continue; // an escaped directive: mdBook writes it literally
        };
        let Some(target) = rest.as_str().split_whitespace().next() else {
            continue;
        };
        let mut report = |message: String| {
            problems.push(IncludeProblem {
                line: crate::directive::line_of(content, whole.start()),
                directive: whole.as_str().to_owned(),
                message,
            })
        };
        for message in check_one(kind.as_str(), target, base_dir, root, 0) {
            report(message);
        }
    }
    problems
}

/// Problems with one directive `{{#kind target}}` resolved from `base_dir`.
fn check_one(
    kind: &str,
    target: &str,
    base_dir: &Path,
    root: &Path,
    depth: usize,
) -> Vec<String> {
    let (path, selection) = match kind {
        "include" | "rustdoc_include" => match target.split_once(':') {
            Some((path, spec)) => (path, parse_selection(Some(spec))),
            None => (target, parse_selection(None)),
        },
        // A playground takes the whole file, named by the whole argument.
        "playground" | "playpen" => (target, parse_selection(None)),
        _ => return Vec::new(),
    };
    let file = base_dir.join(path);
    let shown = paths::shown(&file, root);
    if !file.is_file() {
        return vec![format!("file `{path}` not found (looked for {shown})")];
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) => {
            return vec![format!("cannot read `{path}` ({shown}): {error}")];
        }
    };
    let taken = match select(&text, &selection) {
        Ok(taken) => taken,
        Err(missing) => return vec![format!("{missing} in `{path}` ({shown})")],
    };
    // rustdoc_include hides the unselected lines but still includes them.
    let expanded = if kind == "include" { taken } else { text };
    nested(&expanded, &file, root, depth)
}

fn nested(expanded: &str, file: &Path, root: &Path, depth: usize) -> Vec<String> {
    let dir = file.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let shown = paths::shown(file, root);
    let mut messages = Vec::new();
    for link in LINK.captures_iter(expanded) {
        let (Some(kind), Some(rest)) = (link.get(1), link.get(2)) else {
            continue;
        };
        let Some(target) = rest.as_str().split_whitespace().next() else {
            continue;
        };
        if depth + 1 >= MAX_DEPTH {
            messages.push(format!(
                "includes nest deeper than {MAX_DEPTH} levels at {shown} (a cycle?)"
            ));
            break;
        }
        for message in check_one(kind.as_str(), target, &dir, root, depth + 1) {
            messages.push(format!("in included {shown}: `{}`: {message}", &link[0]));
        }
    }
    messages
}

/// The text a selection takes from `text`, or what is missing.
pub fn select(text: &str, selection: &Selection) -> Result<String, String> {
    match selection {
        Selection::Anchor(name) => anchored(text, name),
        Selection::Lines { start, end } => {
            let lines: Vec<&str> = text.lines().collect();
            let count = lines.len();
            let from = start.unwrap_or(0);
            let to = end.unwrap_or(count).min(count);
            let explicit = start.is_some() || end.is_some();
            if explicit && from >= count {
                return Err(format!(
                    "line {} is past the end (the file has {count} lines)",
                    from + 1
                ));
            }
            if explicit && to <= from {
                return Err(format!(
                    "the line range {}..{} is empty",
                    from + 1,
                    end.unwrap_or(count)
                ));
            }
            Ok(lines[from.min(count)..to.max(from.min(count))].join("\n"))
        }
    }
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, or what is missing.
fn anchored(text: &str, name: &str) -> Result<String, String> {
    let mut lines = text.lines();
    let started = lines.by_ref().any(|line| {
        ANCHOR_START
            .captures(line)
            .is_some_and(|caps| &caps["name"] == name)
    });
    if !started {
        return Err(format!(
            "anchor `{name}` not found (no `ANCHOR: {name}` line)"
        ));
    }
    let mut taken = Vec::new();
    for line in lines {
        if ANCHOR_END
            .captures(line)
            .is_some_and(|caps| &caps["name"] == name)
        {
            return Ok(taken.join("\n"));
        }
        // Other anchors' marker lines are dropped, as mdBook does.
        if !ANCHOR_START.is_match(line) && !ANCHOR_END.is_match(line) {
            taken.push(line);
        }
    }
    Err(format!(
        "anchor `{name}` is never closed (no `ANCHOR_END: {name}` line after `ANCHOR: {name}`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    const LISTING: &str = "fn main() {\n    // ANCHOR: body\n    let x = 1;\n    // ANCHOR_END: body\n    // ANCHOR: open\n    println!(\"{x}\");\n}\n";

    fn book() -> TempDir {
        let dir = TempDir::new("includes");
        dir.write("src/listing.rs", LISTING);
        dir.write(
            "book/ch01/nested.md",
            "{{#include ../../src/listing.rs:body}}\n{{#include gone.rs}}\n",
        );
        dir
    }

    fn problems(content: &str, dir: &TempDir) -> Vec<IncludeProblem> {
        check(content, &dir.path().join("book/ch01"), dir.path())
    }

    #[test]
    fn parses_selections_like_mdbook() {
        let lines = |start, end| Selection::Lines { start, end };
        assert_eq!(parse_selection(None), lines(None, None));
        assert_eq!(parse_selection(Some("10")), lines(Some(9), Some(10)));
        assert_eq!(parse_selection(Some("10:20")), lines(Some(9), Some(20)));
        assert_eq!(parse_selection(Some(":20")), lines(None, Some(20)));
        assert_eq!(parse_selection(Some("10:")), lines(Some(9), None));
        assert_eq!(
            parse_selection(Some("body")),
            Selection::Anchor("body".into())
        );
    }

    #[test]
    fn accepts_existing_files_anchors_and_ranges() {
        let dir = book();
        let content = "{{#include ../../src/listing.rs}}\n{{#include ../../src/listing.rs:body}}\n\
            {{#include ../../src/listing.rs:2}}\n{{#include ../../src/listing.rs:2:4}}\n\
            {{#include ../../src/listing.rs::3}}\n{{#include ../../src/listing.rs:3:}}\n\
            {{#rustdoc_include ../../src/listing.rs:body}}\n{{ #include ../../src/listing.rs }}\n\
            {{#playground ../../src/listing.rs editable}}\n";
        assert_eq!(problems(content, &dir), []);
    }

    #[test]
    fn reports_a_missing_file_with_line_and_directive() {
        let dir = book();
        let found =
            problems("text\n\n{{#include ../../src/missing.rs:body}}\n", &dir);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        assert_eq!(found[0].directive, "{{#include ../../src/missing.rs:body}}");
        assert_eq!(
            found[0].message,
            "file `../../src/missing.rs` not found (looked for src/missing.rs)"
        );
    }

    #[test]
    fn reports_missing_and_unclosed_anchors() {
        let dir = book();
        let found = problems(
            "{{#include ../../src/listing.rs:nope}}\n{{#rustdoc_include ../../src/listing.rs:open}}\n",
            &dir,
        );
        let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            "anchor `nope` not found (no `ANCHOR: nope` line) in `../../src/listing.rs` (src/listing.rs)"
        );
        assert!(messages[1].starts_with("anchor `open` is never closed"));
        assert_eq!(found[1].line, 2);
    }

    #[test]
    fn reports_empty_line_ranges() {
        let dir = book();
        let found = problems(
            "{{#include ../../src/listing.rs:40}}\n{{#include ../../src/listing.rs:5:3}}\n",
            &dir,
        );
        assert_eq!(found.len(), 2);
        assert!(
            found[0]
                .message
                .starts_with("line 40 is past the end (the file has 7 lines)")
        );
        assert!(found[1].message.starts_with("the line range 5..3 is empty"));
    }

    #[test]
    fn ignores_escaped_directives() {
        let dir = book();
        assert_eq!(
            problems(
                r"\{{#include missing.rs}} and \{{#rustdoc_include nope.rs:x}}",
                &dir
            ),
            []
        );
    }

    #[test]
    fn checks_includes_inside_included_files() {
        let dir = book();
        let found = problems("{{#include nested.md}}\n", &dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].directive, "{{#include nested.md}}");
        assert_eq!(
            found[0].message,
            "in included book/ch01/nested.md: `{{#include gone.rs}}`: \
             file `gone.rs` not found (looked for book/ch01/gone.rs)"
        );
    }

    #[test]
    fn selects_lines_like_mdbook() {
        assert_eq!(
            select(LISTING, &parse_selection(Some("body"))).unwrap(),
            "    let x = 1;"
        );
        assert_eq!(
            select(LISTING, &parse_selection(Some("6:7"))).unwrap(),
            "    println!(\"{x}\");\n}"
        );
        assert_eq!(select("", &parse_selection(None)).unwrap(), "");
    }

    #[test]
    fn stops_include_cycles() {
        let dir = TempDir::new("includes-cycle");
        dir.write("a.md", "{{#include b.md}}\n");
        dir.write("b.md", "{{#include a.md}}\n");
        let found = check("{{#include a.md}}", dir.path(), dir.path());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("nest deeper than 10 levels"),
            "{}",
            found[0].message
        );
    }
}
