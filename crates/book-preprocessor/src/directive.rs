//! Finding `{{#bench ...}}` and `{{#bench-table ...}}` in chapter text.
//!
//! The syntax follows mdBook's own directives: `{{#name argument}}`, with
//! optional whitespace after `{{`, and a leading backslash (`\{{#bench ...}}`)
//! to write the directive literally.

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// A directive as written in a chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<'a> {
    /// Byte range of the whole directive (including any backslash).
    pub span: Range<usize>,
    /// The directive's text, e.g. `{{#bench g/f}}`.
    pub text: &'a str,
    /// What it asks for.
    pub kind: Kind<'a>,
}

/// What a directive asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `\{{#bench ...}}`: to be written without the backslash.
    Escaped,
    /// `{{#bench GROUP/FUNCTION[/PARAM]}}`.
    Bench(&'a str),
    /// `{{#bench-table GROUP}}`.
    Table(&'a str),
    /// `{{#result-text GROUP/NAME}}`: the text a run recorded with a result.
    Text(&'a str),
    /// `{{#trace GROUP/NAME}}`: a recorded trace capture, drawn.
    Trace(&'a str),
    /// `{{#series GROUP/NAME}}`: the samples `GROUP/NAME/tK`, drawn as a line.
    Series(&'a str),
    /// `{{#flamegraph GROUP/NAME}}`: recorded stacks, drawn as a flame graph.
    Flame(&'a str),
    /// A directive that cannot be understood, with the reason.
    Malformed(String),
}

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (\\)?                   # 1: escape
        \{\{\s*\#
        (bench-table|bench|result-text|trace|series|flamegraph) # 2: name
        (\s[^{}]*)?             # 3: argument, after at least one space
        \}\}",
    )
    .expect("the directive pattern is valid")
});

/// Every bench directive in `content`, in order.
pub fn find(content: &str) -> Vec<Found<'_>> {
    DIRECTIVE
        .captures_iter(content)
        .map(|caps| {
            let whole = caps.get(0).expect("group 0 always matches");
            let argument = caps.get(3).map_or("", |m| m.as_str()).trim();
            let kind = if caps.get(1).is_some() {
                Kind::Escaped
            } else if &caps[2] == "bench" {
                match parse_id(argument) {
                    Ok(id) => Kind::Bench(id),
                    Err(reason) => Kind::Malformed(reason),
                }
            } else if &caps[2] == "trace" {
                match parse_id(argument) {
                    Ok(id) => Kind::Trace(id),
                    Err(reason) => {
                        Kind::Malformed(reason.replace("#bench", "#trace"))
                    }
                }
            } else if &caps[2] == "series" {
                match parse_id(argument) {
                    Ok(id) => Kind::Series(id),
                    Err(reason) => {
                        Kind::Malformed(reason.replace("#bench", "#series"))
                    }
                }
            } else if &caps[2] == "flamegraph" {
                match parse_id(argument) {
                    Ok(id) => Kind::Flame(id),
                    Err(reason) => {
                        Kind::Malformed(reason.replace("#bench", "#flamegraph"))
                    }
                }
            } else if &caps[2] == "result-text" {
                match parse_id(argument) {
                    Ok(id) => Kind::Text(id),
                    Err(reason) => {
                        Kind::Malformed(reason.replace("#bench", "#result-text"))
                    }
                }
            } else {
                match parse_group(argument) {
                    Ok(group) => Kind::Table(group),
                    Err(reason) => Kind::Malformed(reason),
                }
            };
            Found {
                span: whole.range(),
                text: whole.as_str(),
                kind,
            }
        })
        .collect()
}

/// Whether `content` has a directive that needs benchmark results.
pub fn needs_results(content: &str) -> bool {
    find(content).iter().any(|found| {
        matches!(
            found.kind,
            Kind::Bench(_)
                | Kind::Table(_)
                | Kind::Text(_)
                | Kind::Trace(_)
                | Kind::Series(_)
                | Kind::Flame(_)
        )
    })
}

/// Checks `GROUP/FUNCTION[/PARAM]`. Segments may contain spaces, as criterion
/// names may, but none may be empty.
pub fn parse_id(argument: &str) -> Result<&str, String> {
    let usage =
        "expected `{{#bench GROUP/FUNCTION}}` or `{{#bench GROUP/FUNCTION/PARAM}}`";
    if argument.is_empty() {
        return Err(format!("no benchmark id: {usage}"));
    }
    if !argument.contains('/') {
        return Err(format!("`{argument}` names no function: {usage}"));
    }
    if argument.split('/').any(|segment| segment.trim().is_empty()) {
        return Err(format!("`{argument}` has an empty segment: {usage}"));
    }
    Ok(argument)
}

/// Checks a group name: non-empty, no empty segment.
pub fn parse_group(argument: &str) -> Result<&str, String> {
    let usage = "expected `{{#bench-table GROUP}}`";
    if argument.is_empty() {
        return Err(format!("no group: {usage}"));
    }
    if argument.split('/').any(|segment| segment.trim().is_empty()) {
        return Err(format!("`{argument}` has an empty segment: {usage}"));
    }
    Ok(argument)
}

/// 1-based line number of byte `offset` in `content`.
pub fn line_of(content: &str, offset: usize) -> usize {
    content[..offset].bytes().filter(|&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(content: &str) -> Vec<Kind<'_>> {
        find(content).into_iter().map(|found| found.kind).collect()
    }

    #[test]
    fn finds_valid_directives_with_spans() {
        let content = "Cost: {{#bench ch01_span/noop_tracer}}.\n\n{{#bench-table ch01_span}}\n";
        let found = find(content);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].kind, Kind::Bench("ch01_span/noop_tracer"));
        assert_eq!(found[0].text, "{{#bench ch01_span/noop_tracer}}");
        assert_eq!(&content[found[0].span.clone()], found[0].text);
        assert_eq!(found[1].kind, Kind::Table("ch01_span"));
        assert_eq!(line_of(content, found[1].span.start), 3);
    }

    #[test]
    fn accepts_params_spaces_and_padding() {
        assert_eq!(
            kinds("{{#bench batch/export/1024}} {{ #bench  g/noop tracer }}"),
            [
                Kind::Bench("batch/export/1024"),
                Kind::Bench("g/noop tracer")
            ]
        );
    }

    #[test]
    fn reports_malformed_directives() {
        let reasons: Vec<String> = kinds("{{#bench }} {{#bench}} {{#bench a}} {{#bench a/}} {{#bench-table }} {{#bench-table a//b}}")
            .into_iter()
            .map(|kind| match kind {
                Kind::Malformed(reason) => reason,
                other => panic!("expected malformed, got {other:?}"),
            })
            .collect();
        assert_eq!(reasons.len(), 6);
        assert!(reasons[0].starts_with("no benchmark id"));
        assert!(reasons[1].starts_with("no benchmark id"));
        assert!(reasons[2].starts_with("`a` names no function"));
        assert!(reasons[3].starts_with("`a/` has an empty segment"));
        assert!(reasons[4].starts_with("no group"));
        assert!(reasons[5].starts_with("`a//b` has an empty segment"));
    }

    #[test]
    fn escaped_directives_are_recognised() {
        let found = find(r"Write \{{#bench g/f}} to cite a figure.");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::Escaped);
        assert_eq!(found[0].text, r"\{{#bench g/f}}");
        assert!(!needs_results(r"\{{#bench g/f}} \{{#bench-table g}}"));
    }

    #[test]
    fn leaves_other_directives_alone() {
        assert!(
            find("{{#include a.rs}} {{#benchmark x/y}} {{#bench-tables g}} {bench a/b}").is_empty()
        );
        assert!(!needs_results("{{#include a.rs}}"));
        assert!(needs_results("{{#bench-table g}}"));
    }

    #[test]
    fn finds_result_text_directives() {
        assert_eq!(
            kinds("{{#result-text ch17_tlc/t4_trace}} {{#result-text nogroup}}"),
            [
                Kind::Text("ch17_tlc/t4_trace"),
                Kind::Malformed(
                    "`nogroup` names no function: expected `{{#result-text GROUP/FUNCTION}}` \
                     or `{{#result-text GROUP/FUNCTION/PARAM}}`"
                        .into()
                )
            ]
        );
        assert!(needs_results("{{#result-text g/f}}"));
    }
}
