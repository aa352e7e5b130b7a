//! The checks the fuzz targets `preprocessor_directives` and
//! `preprocessor_results` (`fuzz/fuzz_targets/`) run on each input, shared
//! with the test that replays the saved corpus on stable Rust
//! (`tests/fuzz_corpus.rs`). Each panics on a broken invariant, which is how
//! libFuzzer recognises a finding.

use crate::directive::{self, Kind};
use crate::includes;
use crate::results::ResultsFile;

/// Chapter text: the `{{#bench}}` directive finder, and the include
/// checker's pure parts (the selection after `file:` and the selection of
/// lines or an anchor). The input's first line is the selection, the rest is
/// both the chapter and the included file.
///
/// Whatever the text: no panic; the directives found are in order, do not
/// overlap, and each one's text is the chapter's text at its span; an id or
/// group accepted passes its own parser again; a selection taken is no
/// longer than the file.
pub fn directives(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut end = 0;
    for found in directive::find(&text) {
        assert!(found.span.start >= end, "{found:?} overlaps the one before");
        assert_eq!(text.get(found.span.clone()), Some(found.text));
        assert!(found.text.ends_with("}}"), "{found:?}");
        end = found.span.end;
        let _ = directive::line_of(&text, found.span.start);
        match found.kind {
            Kind::Bench(id)
            | Kind::Text(id)
            | Kind::Trace(id)
            | Kind::Series(id)
            | Kind::Flame(id) => {
                assert_eq!(directive::parse_id(id), Ok(id));
                assert!(id.contains('/'));
            }
            Kind::Table(group) => {
                assert_eq!(directive::parse_group(group), Ok(group))
            }
            Kind::Malformed(reason) => assert!(!reason.is_empty()),
            Kind::Escaped => assert!(found.text.starts_with('\\')),
        }
    }
    let (spec, file) = text.split_once('\n').unwrap_or((&text, ""));
    let selection = includes::parse_selection(Some(spec));
    match includes::select(file, &selection) {
        Ok(taken) => assert!(taken.len() <= file.len(), "{selection:?}"),
        Err(message) => assert!(!message.is_empty()),
    }
}

/// A results file (`target/book-results/*.json`, `book/benchmarks/baseline.json`).
///
/// Whatever the text: no panic; a file that parses is valid, and writing it
/// out and parsing it again gives the same file (with results sorted by id,
/// as [`ResultsFile::to_pretty_json`] writes them).
pub fn results(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ResultsFile::parse(text) else {
        return;
    };
    file.validate().expect("a parsed results file is valid");
    let written = file.to_pretty_json();
    let again = ResultsFile::parse(&written).expect("a written results file parses");
    let mut sorted = file.clone();
    sorted.results.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        again, sorted,
        "the file changed on the way through\n{written}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_made_chapters_pass_the_checks() {
        directives(b"");
        directives(b"2:4\nline1\nline2\nline3\n{{#bench g/f}} \\{{#bench x}} {{#bench-table}}");
        directives(b"anchor\n// ANCHOR: anchor\nkept\n// ANCHOR_END: anchor\n");
        directives(b"99999999999999999999999\n{{ #result-text a//b}}");
        directives("é:\u{0}\n{{#bench é/ü}}".as_bytes());
    }

    #[test]
    fn a_results_file_survives_the_round_trip() {
        let file = ResultsFile {
            format: crate::results::FORMAT_VERSION,
            provenance: book_results::testutil::example_provenance(),
            results: vec![
                book_results::Measurement::count("g/b", 2.5, "states"),
                book_results::Measurement::count("g/a", 0.1, "bytes").with_text("t"),
            ],
        };
        let text = serde_json::to_string(&file).unwrap();
        results(text.as_bytes());
        results(b"{");
        results(b"\xff");
    }
}
