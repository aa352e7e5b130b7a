//! How long and how wide the book's listings are, as a reader sees them.
//!
//! A *listing* is a fenced code block of a chapter that shows code: any
//! language but `console`, `text`, `mermaid` and none. Its lines are what the
//! page shows after mdBook expands `{{#include}}` / `{{#rustdoc_include}}`
//! (the selected lines only) and hides the `# ` lines of a Rust block.
//!
//! Two budgets keep listings readable: [`MAX_LINES`] lines (most of the Rust
//! Book's listings are under 20) and [`MAX_WIDTH`] characters, what the page's
//! code block shows without scrolling (Comprehensive Rust formats to the same
//! width for the same reason). A listing may go over a budget when the length
//! or width is the point; the chapter then says why in a comment on the line
//! right above the block:
//!
//! ```text
//! <!-- long listing: the whole state machine, every transition in one place -->
//! <!-- wide listing: a manifest line as cargo writes it -->
//! ```

use crate::includes::{LINK, parse_selection, select};
use std::path::{Path, PathBuf};

/// Lines a listing may show without a recorded reason.
pub const MAX_LINES: usize = 40;
/// Characters a listing's line may have without a recorded reason.
pub const MAX_WIDTH: usize = 85;

/// One listing as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The chapter, as given to [`scan`].
    pub chapter: PathBuf,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The block's language (first word of its info string).
    pub language: String,
    /// Whether its lines come from a file (`{{#include}}`).
    pub included: bool,
    /// The lines shown, each as its number of characters.
    pub widths: Vec<usize>,
    /// The reason written above the block for its length, if any.
    pub long_reason: Option<String>,
    /// The reason written above the block for its width, if any.
    pub wide_reason: Option<String>,
}

impl Listing {
    /// Lines shown.
    pub fn lines(&self) -> usize {
        self.widths.len()
    }

    /// Lines wider than [`MAX_WIDTH`].
    pub fn wide_lines(&self) -> usize {
        self.widths.iter().filter(|w| **w > MAX_WIDTH).count()
    }

    /// What is over budget without a reason, if anything.
    pub fn problem(&self) -> Option<String> {
        let mut over = Vec::new();
        if self.lines() > MAX_LINES && self.long_reason.is_none() {
            over.push(format!(
                "{} lines (budget {MAX_LINES}; split it, or say why above it with \
                 `<!-- long listing: REASON -->`)",
                self.lines()
            ));
        }
        if self.wide_lines() > 0 && self.wide_reason.is_none() {
            let widest = self.widths.iter().max().copied().unwrap_or(0);
            over.push(format!(
                "{} lines wider than {MAX_WIDTH} characters, the widest {widest} \
                 (wrap them, or say why with `<!-- wide listing: REASON -->`)",
                self.wide_lines()
            ));
        }
        (!over.is_empty()).then(|| {
            format!(
                "{}:{}: listing of {}",
                self.chapter.display(),
                self.line,
                over.join(" and ")
            )
        })
    }
}

/// Languages whose blocks are output or drawings, not code.
const NOT_CODE: &[&str] = &["", "console", "text", "mermaid"];

/// The listings of one chapter, `text`, whose file is in `base_dir`.
/// An include that cannot be read counts as one line: the include check
/// reports it.
pub fn scan(chapter: &Path, text: &str, base_dir: &Path) -> Vec<Listing> {
    let lines: Vec<&str> = text.lines().collect();
    let mut listings = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((fence, info)) = opening_fence(lines[i]) else {
            i += 1;
            continue;
        };
        let start = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with(&fence) {
            body.push(lines[i]);
            i += 1;
        }
        i += 1; // the closing fence
        let language = info.split([',', ' ', '\t']).next().unwrap_or("").to_owned();
        if NOT_CODE.contains(&language.as_str()) {
            continue;
        }
        let (shown, included) = expand(&body, base_dir);
        let shown: Vec<String> = if language == "rust" {
            shown.into_iter().filter(|l| !hidden_in_rust(l)).collect()
        } else {
            shown
        };
        let mut widths: Vec<usize> =
            shown.iter().map(|l| l.chars().count()).collect();
        while widths.last() == Some(&0) {
            widths.pop();
        }
        let above = start.checked_sub(1).map_or("", |n| lines[n]);
        listings.push(Listing {
            chapter: chapter.to_path_buf(),
            line: start + 1,
            language,
            included,
            widths,
            long_reason: reason(above, "long listing"),
            wide_reason: reason(above, "wide listing"),
        });
    }
    listings
}

/// The fence (```` ``` ```` or `~~~`, as long as written) and info string
/// of an opening fence line.
fn opening_fence(line: &str) -> Option<(String, &str)> {
    let trimmed = line.trim_start();
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = trimmed.chars().take_while(|c| *c == marker).count();
    (length >= 3).then(|| {
        let fence: String = std::iter::repeat_n(marker, length).collect();
        (fence, trimmed[length..].trim())
    })
}

/// The block's lines with includes expanded, and whether it had any.
fn expand(body: &[&str], base_dir: &Path) -> (Vec<String>, bool) {
    let mut shown = Vec::new();
    let mut included = false;
    for line in body {
        let Some(link) = LINK.captures(line) else {
            shown.push((*line).to_owned());
            continue;
        };
        let (Some(kind), Some(rest)) = (link.get(1), link.get(2)) else {
            shown.push((*line).to_owned());
            continue;
        };
        if !matches!(kind.as_str(), "include" | "rustdoc_include") {
            shown.push((*line).to_owned());
            continue;
        }
        included = true;
        let target = rest.as_str().split_whitespace().next().unwrap_or("");
        let (path, spec) = match target.split_once(':') {
            Some((path, spec)) => (path, Some(spec)),
            None => (target, None),
        };
        let text = std::fs::read_to_string(base_dir.join(path))
            .ok()
            .and_then(|text| select(&text, &parse_selection(spec)).ok());
        match text {
            Some(text) => shown.extend(text.lines().map(str::to_owned)),
            None => shown.push((*line).to_owned()),
        }
    }
    (shown, included)
}

/// mdBook hides a Rust block's line that is `#` alone or starts `# `.
fn hidden_in_rust(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "#" || trimmed.starts_with("# ")
}

/// `REASON` of a `<!-- KIND: REASON -->` line.
fn reason(line: &str, kind: &str) -> Option<String> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let reason = inner
        .strip_prefix(kind)?
        .trim_start()
        .strip_prefix(':')?
        .trim();
    (!reason.is_empty()).then(|| reason.to_owned())
}

/// Median, 90th percentile and largest of `values` (nearest rank).
pub fn spread(values: &[usize]) -> (usize, usize, usize) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = |p: f64| -> usize {
        if sorted.is_empty() {
            return 0;
        }
        let index =
            ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[index - 1]
    };
    (rank(0.5), rank(0.9), sorted.last().copied().unwrap_or(0))
}

/// The distribution a test run prints, one line per kind of listing.
pub fn summary(listings: &[Listing]) -> String {
    let describe = |name: &str, set: Vec<&Listing>| {
        let lengths: Vec<usize> = set.iter().map(|l| l.lines()).collect();
        let (median, p90, longest) = spread(&lengths);
        let over = lengths.iter().filter(|n| **n > MAX_LINES).count();
        let under_20 = lengths.iter().filter(|n| **n <= 20).count();
        let wide: usize = set.iter().map(|l| l.wide_lines()).sum();
        format!(
            "{name}: {} listings, lines median {median}, 90th percentile {p90}, longest \
             {longest}; {under_20} of 20 lines or fewer, {over} over {MAX_LINES}; \
             {wide} lines wider than {MAX_WIDTH}",
            set.len()
        )
    };
    [
        describe("included", listings.iter().filter(|l| l.included).collect()),
        describe("inline", listings.iter().filter(|l| !l.included).collect()),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn chapter(dir: &TempDir, text: &str) -> Vec<Listing> {
        scan(Path::new("ch.md"), text, &dir.path().join("book"))
    }

    #[test]
    fn counts_what_the_page_shows() {
        let dir = TempDir::new("listings");
        dir.write(
            "src/a.rs",
            "use x;\n// ANCHOR: body\nfn f() {}\n# hidden\n\n// ANCHOR_END: body\n",
        );
        let text = "intro\n```rust,noplayground\n{{#include ../src/a.rs:body}}\n```\n\
                    ```console\n$ cargo run\n```\n~~~toml\n[a]\nb = 1\n~~~\n";
        let found = chapter(&dir, text);
        assert_eq!(found.len(), 2, "{found:?}");
        // `# hidden` is hidden, the trailing blank line is not counted.
        assert_eq!(found[0].lines(), 1);
        assert!(found[0].included);
        assert_eq!(found[0].line, 2);
        assert_eq!((found[1].language.as_str(), found[1].lines()), ("toml", 2));
        assert!(!found[1].included);
    }

    #[test]
    fn a_long_or_wide_listing_needs_a_reason_above_it() {
        let dir = TempDir::new("listings-budget");
        let long: String = (0..=MAX_LINES)
            .map(|n| format!("let x{n} = {n};\n"))
            .collect();
        let wide = "x".repeat(MAX_WIDTH + 1);
        let text = format!("```rust\n{long}```\n\n```rust\n{wide}\n```\n");
        let found = chapter(&dir, &text);
        let problems: Vec<String> =
            found.iter().filter_map(Listing::problem).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("ch.md:1: listing of 41 lines"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("1 lines wider than 85"),
            "{problems:?}"
        );

        let excused = format!(
            "<!-- long listing: every transition in one place -->\n```rust\n{long}```\n\n\
             <!-- wide listing: a line as cargo writes it -->\n```rust\n{wide}\n```\n"
        );
        let found = chapter(&dir, &excused);
        assert!(found.iter().all(|l| l.problem().is_none()), "{found:?}");
        assert_eq!(
            found[0].long_reason.as_deref(),
            Some("every transition in one place")
        );
        // An empty reason is no reason.
        let empty = format!("<!-- long listing: -->\n```rust\n{long}```\n");
        assert!(chapter(&dir, &empty)[0].problem().is_some());
    }

    #[test]
    fn spread_uses_nearest_rank() {
        assert_eq!(spread(&[]), (0, 0, 0));
        assert_eq!(spread(&[5]), (5, 5, 5));
        let values: Vec<usize> = (1..=10).collect();
        assert_eq!(spread(&values), (5, 9, 10));
    }
}
