//! Reading a capture: a file of OTLP/JSON trace requests.
//!
//! A capture is one `ExportTraceServiceRequest` as a JSON object (pretty or
//! not), or JSON Lines with one request per line, which is what the book's
//! receiver and the collectors' file exporters write. Both are a sequence of
//! JSON values separated by whitespace, so one streaming reader takes both.
//!
//! Bad input is a [`CaptureError`] that says where (line, column, byte
//! offset; the JSON path for a bad field) and what was wrong, never a panic.
//! What can be repaired (duplicates, wrong times, too many spans) is a
//! [`Warning`] instead, returned with the spans (see `limits`).

use crate::document;
use crate::limits;
use crate::model::Span;
use crate::warning::Warning;
use serde_json::Value;
use serde_json::error::Category;

/// How many spans are drawn at most, unless told otherwise.
pub const DEFAULT_MAX_SPANS: usize = 10_000;

/// Choices for reading a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// At most this many spans are kept: the first by start time.
    pub max_spans: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_spans: DEFAULT_MAX_SPANS,
        }
    }
}

/// The spans of a capture and what was odd about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// The spans kept, in the order they were read.
    pub spans: Vec<Span>,
    pub warnings: Vec<Warning>,
    /// How many JSON documents (requests) the input held.
    pub documents: usize,
}

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("no JSON in the input")]
    Empty,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("the JSON ends too early (is the file truncated?)")]
    Truncated,
    #[error("not OTLP trace data: {0}")]
    NotOtlp(String),
    #[error("{path}: {what}")]
    Field { path: String, what: String },
}

/// Bad input, with where it is: for a bad field, where its document starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column} (byte {byte_offset}): {problem}")]
pub struct CaptureError {
    pub line: usize,
    pub column: usize,
    pub byte_offset: usize,
    pub problem: Problem,
}

/// Reads a capture from `bytes`. See the module docs.
pub fn parse(bytes: &[u8], options: &Options) -> Result<Capture, CaptureError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut stream =
        serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    let (mut spans, mut warnings, mut documents) = (Vec::new(), Vec::new(), 0);
    let mut lines = LineCounter::default();
    loop {
        let start = skip_whitespace(bytes, stream.byte_offset());
        let Some(next) = stream.next() else { break };
        let value = next.map_err(|e| json_error(bytes, &e))?;
        documents += 1;
        let line = lines.line_at(bytes, start);
        document::read(&value, line, &mut spans, &mut warnings)
            .map_err(|problem| error_at(bytes, start, problem))?;
    }
    if documents == 0 {
        return Err(error_at(bytes, bytes.len(), Problem::Empty));
    }
    let spans = limits::apply(spans, options.max_spans, &mut warnings);
    Ok(Capture {
        spans,
        warnings,
        documents,
    })
}

fn skip_whitespace(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    from + rest.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// The line of each document, counted incrementally: a file of a million
/// lines must not be rescanned from the top for each of them.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    /// The 1-based line of byte `offset`, which is not before the last one asked.
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> usize {
        let offset = offset.min(bytes.len()).max(self.offset);
        let newlines = bytes[self.offset..offset].iter().filter(|&&b| b == b'\n');
        self.line += newlines.count();
        self.offset = offset;
        self.line + 1
    }
}

/// The 1-based line and column of byte `offset`.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}

fn error_at(bytes: &[u8], offset: usize, problem: Problem) -> CaptureError {
    let (line, column) = position(bytes, offset);
    CaptureError {
        line,
        column,
        byte_offset: offset.min(bytes.len()),
        problem,
    }
}

/// serde_json's error, with its line and column turned into our location.
fn json_error(bytes: &[u8], e: &serde_json::Error) -> CaptureError {
    let problem = match e.classify() {
        Category::Eof => Problem::Truncated,
        _ => {
            let text = e.to_string();
            let cut = text.rfind(" at line ").unwrap_or(text.len());
            Problem::NotJson(text[..cut].to_owned())
        }
    };
    let offset = offset_of(bytes, e.line(), e.column());
    CaptureError {
        line: e.line(),
        column: e.column(),
        byte_offset: offset,
        problem,
    }
}

/// The byte offset of a 1-based line and column (columns count bytes).
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        let mut newlines = bytes.iter().enumerate().filter(|&(_, &b)| b == b'\n');
        newlines.nth(line - 2).map_or(bytes.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(bytes.len())
}
